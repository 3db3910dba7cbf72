"""The dashboard's facts on each feedback row: who sent the reply, the suggestion's length, the server's suggest time,
how long the buyer waited; and the index every dashboard query ranges over (event, created_at), covering the columns they read.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(sa.Column("agent", sa.String(64), nullable=True))
        batch.add_column(sa.Column("suggested_chars", sa.Integer, nullable=True))
        batch.add_column(sa.Column("latency_ms", sa.Float, nullable=True))
        batch.add_column(sa.Column("wait_ms", sa.Integer, nullable=True))
    op.create_index("ix_feedback_dashboard", "feedback", ["event", "created_at", "entry_id", "rank", "intent", "agent", "message_id", "wait_ms", "latency_ms", "edit_distance", "suggested_chars"])


def downgrade() -> None:
    op.drop_index("ix_feedback_dashboard", table_name="feedback")
    with op.batch_alter_table("feedback") as batch:
        for name in ("wait_ms", "latency_ms", "suggested_chars", "agent"):
            batch.drop_column(name)
