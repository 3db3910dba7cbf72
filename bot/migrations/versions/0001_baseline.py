"""The schema as bot/db.py made it before migrations (main at bf721ca): a database from then is stamped here.

Revision ID: 0001
Revises:
"""

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing: such a database already has these tables (a new one is made by create_all at the newest revision)."""


def downgrade() -> None:
    """Nothing below the baseline."""
