"""Shops: a `shops` table; every KB row (entries, questions, pending edits, versions, profile) keyed by its shop as well
as its id; KB changes and conversations name their shop; the shops each account and token serves. What the database
held becomes shop `default`, and every account and token serves it.

The KB tables' primary keys change, which SQLite cannot ALTER: each is copied aside, made again with the new key, and
filled back with shop `default` (children first, so no foreign key cascades a delete). The same steps run on
PostgreSQL, in the one transaction the upgrade holds.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

DEFAULT_SHOP = "default"

# The KB tables as they were (their columns, in order), children before the parents they reference.
_REBUILT = {
    "kb_questions": ("entry_id", "position", "text"),
    "kb_pending": ("entry_id", "intent", "tags", "questions", "answer"),
    "kb_revisions": ("entry_id", "version", "action", "status", "intent", "tags", "questions", "answer", "author", "created_at", "note"),
    "shop_profile": ("key", "position", "value"),
    "kb_entries": ("id", "intent", "status", "tags", "answer", "version", "updated_at", "updated_by"),
}


def _shop_column() -> sa.Column:
    return sa.Column("shop", sa.String(64), primary_key=True)


def _create_tables() -> None:
    op.create_table(
        "kb_entries",
        _shop_column(),
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("intent", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
    )
    op.create_index("ix_kb_entries_intent", "kb_entries", ["intent"])
    op.create_index("ix_kb_entries_status", "kb_entries", ["status"])
    op.create_table(
        "kb_questions",
        _shop_column(),
        sa.Column("entry_id", sa.String(100), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["shop", "entry_id"], ["kb_entries.shop", "kb_entries.id"], ondelete="CASCADE"),
    )
    op.create_table(
        "kb_pending",
        _shop_column(),
        sa.Column("entry_id", sa.String(100), primary_key=True),
        sa.Column("intent", sa.String(64), nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("questions", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["shop", "entry_id"], ["kb_entries.shop", "kb_entries.id"], ondelete="CASCADE"),
    )
    op.create_table(
        "kb_revisions",
        _shop_column(),
        sa.Column("entry_id", sa.String(100), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("intent", sa.String(64), nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("questions", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_table(
        "shop_profile",
        _shop_column(),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
    )


def upgrade() -> None:
    op.create_table(
        "shops",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.execute(sa.text("INSERT INTO shops (name, created_at) VALUES (:shop, CURRENT_TIMESTAMP)").bindparams(shop=DEFAULT_SHOP))
    for table in _REBUILT:
        op.execute(f"CREATE TABLE _upgrade_{table} AS SELECT * FROM {table}")
        op.drop_table(table)
    _create_tables()
    for table, columns in reversed(_REBUILT.items()):  # parents first
        names = ", ".join(columns)
        op.execute(sa.text(f"INSERT INTO {table} (shop, {names}) SELECT :shop, {names} FROM _upgrade_{table}").bindparams(shop=DEFAULT_SHOP))
        op.drop_table(f"_upgrade_{table}")
    with op.batch_alter_table("kb_changes") as batch:
        batch.add_column(sa.Column("shop", sa.String(64), nullable=False, server_default=DEFAULT_SHOP))
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("shop", sa.String(64), nullable=False, server_default=DEFAULT_SHOP))
    op.create_index("ix_conversations_shop", "conversations", ["shop"])
    op.create_table(
        "user_shops",
        sa.Column("user_name", sa.String(64), sa.ForeignKey("users.name", ondelete="CASCADE"), primary_key=True),
        sa.Column("shop", sa.String(64), primary_key=True),
    )
    op.create_table(
        "token_shops",
        sa.Column("token_name", sa.String(64), sa.ForeignKey("api_tokens.name", ondelete="CASCADE"), primary_key=True),
        sa.Column("shop", sa.String(64), primary_key=True),
    )
    # every account and token made before shops served the one shop there was
    op.execute(sa.text("INSERT INTO user_shops (user_name, shop) SELECT name, :shop FROM users").bindparams(shop=DEFAULT_SHOP))
    op.execute(sa.text("INSERT INTO token_shops (token_name, shop) SELECT name, :shop FROM api_tokens").bindparams(shop=DEFAULT_SHOP))


def downgrade() -> None:
    raise NotImplementedError("shops are not taken apart again: restore the backup made before the upgrade")
