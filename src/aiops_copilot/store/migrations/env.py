"""Alembic's entry point for the store's migrations, run only programmatically.

``aiops_copilot.store.engine.migrate`` passes an open connection, already inside a transaction
that holds the write lock, through ``config.attributes``; the migrations run inside it, so a
fresh database is created all at once or not at all.
"""

from __future__ import annotations

from alembic import context

from aiops_copilot.store.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "the store's migrations run through aiops_copilot.store, not the alembic CLI"
    )
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
