"""Alembic migrations of the store (run by aiops_copilot.store.engine.migrate)."""
