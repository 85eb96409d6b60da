"""Stream consumers: the ledger of consumed messages and the shared template miner.

Adds ``consumed`` (one row per broker message whose records are stored, written in the same
transaction as the window's run: a redelivered message is found there and not counted
again), ``miner_states`` (per consumer group: the shared miner's snapshot and journal head)
and ``miner_journal`` (the batches of token sequences every replica replays in order).
Nothing existing changes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aiops_copilot.store.types import JSONDoc, UTCDateTime

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "consumed",
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("consumed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_consumed_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("source", "message_id", name=op.f("pk_consumed")),
    )
    op.create_index(op.f("ix_consumed_run_id"), "consumed", ["run_id"])
    op.create_table(
        "miner_states",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("head", sa.Integer(), nullable=False),
        sa.Column("snapshot_seq", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=True),
        sa.Column("config", JSONDoc, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_miner_states")),
    )
    op.create_table(
        "miner_journal",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("entries", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["name"],
            ["miner_states.name"],
            name=op.f("fk_miner_journal_name_miner_states"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("name", "seq", name=op.f("pk_miner_journal")),
    )


def downgrade() -> None:
    op.drop_table("miner_journal")
    op.drop_table("miner_states")
    op.drop_index(op.f("ix_consumed_run_id"), table_name="consumed")
    op.drop_table("consumed")
