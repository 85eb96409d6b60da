"""The knowledge base: error signatures and their runbooks, as YAML data, one folder a domain."""
