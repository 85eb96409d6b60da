"""Template counts per run: every template an analysis saw, how often, and per minute.

Adds ``template_counts`` (one row per template per run, with a sparse histogram for burst
charts) and the log-time window of each template (``templates.log_first_seen`` and
``log_last_seen``), which tells a later run whether it is reading the same lines again.
Existing rows keep their data; the new columns start empty.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aiops_copilot.store.types import JSONDoc, LogTime

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Nullable columns: a plain ALTER TABLE ADD COLUMN on both databases, no table copy.
    op.add_column("templates", sa.Column("log_first_seen", LogTime(), nullable=True))
    op.add_column("templates", sa.Column("log_last_seen", LogTime(), nullable=True))
    op.create_table(
        "template_counts",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.String(64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("is_new", sa.Boolean(), nullable=False),
        sa.Column("same_logs", sa.Boolean(), nullable=False),
        sa.Column("log_first_seen", LogTime(), nullable=True),
        sa.Column("log_last_seen", LogTime(), nullable=True),
        sa.Column("bucket_minutes", sa.Integer(), nullable=False),
        sa.Column("buckets", JSONDoc, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_template_counts_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["templates.id"],
            name=op.f("fk_template_counts_template_id_templates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "template_id", name=op.f("pk_template_counts")),
    )
    op.create_index(op.f("ix_template_counts_template_id"), "template_counts", ["template_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_template_counts_template_id"), table_name="template_counts")
    op.drop_table("template_counts")
    with op.batch_alter_table("templates") as batch:
        batch.drop_column("log_last_seen")
        batch.drop_column("log_first_seen")
