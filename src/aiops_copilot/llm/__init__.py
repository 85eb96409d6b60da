"""LLM assist: providers, the redaction gate and evidence packs; never required for analysis."""
