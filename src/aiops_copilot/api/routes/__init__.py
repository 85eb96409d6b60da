"""The API's routers: ingestion, the read API and feedback, upload analysis, operations."""
