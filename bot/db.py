"""The database: every table (schema in one spot) and its SQLAlchemy engine, one connection pool per URL and process (SQLite by default, any SQLAlchemy URL)."""

from __future__ import annotations

import threading
import weakref
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.errors import ConfigError
from bot.private import private_file

if TYPE_CHECKING:
    from bot.migrations import Upgrade

metadata = sa.MetaData()

# The shops this deployment serves (migration 0003). Every KB row belongs to one shop's layer, or to the common layer
# (shop "common") that every shop inherits unless it has a row of the same id itself (bot.shops).
shops_table = sa.Table(
    "shops",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

entries_table = sa.Table(
    "kb_entries",
    metadata,
    sa.Column("shop", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("intent", sa.String(64), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("tags", sa.Text, nullable=False),  # JSON list
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, default=1),  # the latest revision (optimistic locking)
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False, default="import"),
)

questions_table = sa.Table(
    "kb_questions",
    metadata,
    sa.Column("shop", sa.String(64), primary_key=True),
    sa.Column("entry_id", sa.String(100), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.ForeignKeyConstraint(["shop", "entry_id"], ["kb_entries.shop", "kb_entries.id"], ondelete="CASCADE"),
)

# An edit of an approved entry waiting for approval; the approved version stays live meanwhile.
pending_table = sa.Table(
    "kb_pending",
    metadata,
    sa.Column("shop", sa.String(64), primary_key=True),
    sa.Column("entry_id", sa.String(100), primary_key=True),
    sa.Column("intent", sa.String(64), nullable=False),
    sa.Column("tags", sa.Text, nullable=False),  # JSON list
    sa.Column("questions", sa.Text, nullable=False),  # JSON list
    sa.Column("answer", sa.Text, nullable=False),
    sa.ForeignKeyConstraint(["shop", "entry_id"], ["kb_entries.shop", "kb_entries.id"], ondelete="CASCADE"),
)

# Every version of every entry: who changed what, when; never updated or deleted.
revisions_table = sa.Table(
    "kb_revisions",
    metadata,
    sa.Column("shop", sa.String(64), primary_key=True),
    sa.Column("entry_id", sa.String(100), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("action", sa.String(16), nullable=False),  # create | edit | approve | retire | revert | discard | import
    sa.Column("status", sa.String(16), nullable=False),  # the status of this version's content
    sa.Column("intent", sa.String(64), nullable=False),
    sa.Column("tags", sa.Text, nullable=False),
    sa.Column("questions", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("author", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("note", sa.Text, nullable=True),
)

# One row per change of what agents are suggested (entry_id NULL: the shop's whole layer); engines poll it.
changes_table = sa.Table(
    "kb_changes",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("shop", sa.String(64), nullable=False),
    sa.Column("entry_id", sa.String(100), nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

shop_table = sa.Table(
    "shop_profile",
    metadata,
    sa.Column("shop", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("value", sa.Text, nullable=False),
)


meta_table = sa.Table(
    "kb_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


conversations_table = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("shop", sa.String(64), nullable=False, index=True),  # named by its first message; never changes
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

messages_table = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(64), sa.ForeignKey("conversations.id"), nullable=False, index=True),
    sa.Column("role", sa.String(16), nullable=False),  # customer | agent
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# The facts of a conversation's order as the shop's integration last sent them (bot.order.Order as JSON).
conversation_orders_table = sa.Table(
    "conversation_orders",
    metadata,
    sa.Column("conversation_id", sa.String(64), sa.ForeignKey("conversations.id"), primary_key=True),
    sa.Column("facts", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

feedback_table = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(64), nullable=False, index=True),
    sa.Column("message_id", sa.Integer, nullable=True, index=True),  # the customer message suggested for
    sa.Column("event", sa.String(16), nullable=False),  # shown | abstained | picked | edited | sent | ignored
    sa.Column("entry_id", sa.String(100), nullable=True),
    sa.Column("rank", sa.Integer, nullable=True),
    sa.Column("score", sa.Float, nullable=True),
    sa.Column("final_text", sa.Text, nullable=True),
    sa.Column("edit_distance", sa.Integer, nullable=True),
    sa.Column("intent", sa.String(64), nullable=True),  # the engine's intent for the message (shown, abstained)
    sa.Column("created_at", sa.DateTime, nullable=False),
    # For the dashboard (migration 0002): the account that sent the reply (picked, edited, ignored, sent); the
    # suggestion's length in characters (edited: its edit distance relative to it); the server's suggest time for the
    # message (its first shown row, or abstained); how long the buyer's message waited for this reply (sent).
    sa.Column("agent", sa.String(64), nullable=True),
    sa.Column("suggested_chars", sa.Integer, nullable=True),
    sa.Column("latency_ms", sa.Float, nullable=True),
    sa.Column("wait_ms", sa.Integer, nullable=True),
    # Every dashboard query ranges over (event, created_at) and reads only these columns: the index covers them, so
    # SQLite answers from the index alone (90 days of a busy shop in a few seconds instead of tens).
    sa.Index("ix_feedback_dashboard", "event", "created_at", "entry_id", "rank", "intent", "agent", "message_id", "wait_ms", "latency_ms", "edit_distance", "suggested_chars"),
)


# Customer messages an editor has dealt with on the "learning from traffic" page.
traffic_reviewed_table = sa.Table(
    "traffic_reviewed",
    metadata,
    sa.Column("message_id", sa.Integer, primary_key=True),
    sa.Column("decision", sa.String(16), nullable=False),  # accepted | dismissed
    sa.Column("entry_id", sa.String(100), nullable=True),
    sa.Column("author", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)


# Accounts (agent | editor | admin): argon2 password hashes, never the passwords.
users_table = sa.Table(
    "users",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# The shops each account serves (migration 0003; accounts made before shops serve `default`). Admins serve every shop.
user_shops_table = sa.Table(
    "user_shops",
    metadata,
    sa.Column("user_name", sa.String(64), sa.ForeignKey("users.name", ondelete="CASCADE"), primary_key=True),
    sa.Column("shop", sa.String(64), primary_key=True),
)

# Logged-in browsers: the cookie holds a random token, the table only its SHA-256 (a leaked table logs nobody in).
sessions_table = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_name", sa.String(64), sa.ForeignKey("users.name", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
)

# Accounts whose password was made for them (the first admin's, printed once): they must choose their own first.
password_changes_due_table = sa.Table(
    "password_changes_due",
    metadata,
    sa.Column("user_name", sa.String(64), sa.ForeignKey("users.name", ondelete="CASCADE"), primary_key=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# Live events for the pages of other server processes (PostgreSQL LISTEN/NOTIFY carries only the id); kept minutes.
live_events_table = sa.Table(
    "live_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("origin", sa.String(32), nullable=False),  # the process that published it (it delivered it itself)
    sa.Column("target", sa.String(80), nullable=False),  # "agents" or "customer:<conversation id>"
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
)


# Integrations (the shop's chat platform): bearer tokens, stored as SHA-256, each with a role.
api_tokens_table = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)


# The shops each integration token serves (as user_shops; an admin token serves every shop).
token_shops_table = sa.Table(
    "token_shops",
    metadata,
    sa.Column("token_name", sa.String(64), sa.ForeignKey("api_tokens.name", ondelete="CASCADE"), primary_key=True),
    sa.Column("shop", sa.String(64), primary_key=True),
)


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


KB_CHANGES_LOCK = 0x6B625F63  # "kb_c": the PostgreSQL advisory lock that orders kb_changes' writers


def log_kb_change(conn: sa.Connection, shop: str, entry_id: str | None) -> None:
    """Record a change of what a shop's agents are suggested (entry_id None: its whole layer), as the last statement
    of the transaction that makes it. Engines remember the highest seq they have read, so seqs must become visible in
    order: PostgreSQL hands out a sequence number at insert, and a later number can commit first and be read before
    an earlier one, which would then never be read. Writers therefore take turns until commit (SQLite's one writer
    at a time already does that)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": KB_CHANGES_LOCK})
    conn.execute(changes_table.insert().values(shop=shop, entry_id=entry_id, created_at=now()))


def insert_if_absent(conn: sa.Connection, table: sa.Table, **values: object) -> None:
    """INSERT the row unless one with its key exists (ON CONFLICT DO NOTHING): two processes creating the same row at
    once both go on, where a check-then-insert would fail one of them on the unique key."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        raise ConfigError(f"unsupported database: {conn.dialect.name} (SQLite or PostgreSQL)")
    conn.execute(insert(table).values(**values).on_conflict_do_nothing())


def _private_sqlite_file(sa_url: sa.engine.URL) -> None:
    """A SQLite database file is made 0600 in a 0700 folder (SQLite gives its -wal and -shm the same mode)."""
    if sa_url.get_backend_name() == "sqlite" and sa_url.database and sa_url.database != ":memory:":
        private_file(Path(sa_url.database))


def _make_engine(url: str) -> Engine:
    try:
        sa_url = sa.engine.make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"--db: not a database URL: {url!r} (e.g. sqlite:///var/bot.sqlite3)") from exc
    if sa_url.get_backend_name() == "sqlite":
        _private_sqlite_file(sa_url)
        engine = sa.create_engine(url, future=True, connect_args={"timeout": 30, "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return sa.create_engine(url, future=True, pool_pre_ping=True)


def _safe(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


_shared_engines: "weakref.WeakValueDictionary[str, Engine]" = weakref.WeakValueDictionary()
_shared_engines_lock = threading.Lock()


def _shared_engine(url: str) -> Engine:
    """One engine, so one connection pool, per database URL in a process while any store holds it: the server's
    accounts, conversations and KB stores share it rather than each holding up to 15 PostgreSQL connections."""
    with _shared_engines_lock:
        engine = _shared_engines.get(url)
        if engine is None:
            engine = _make_engine(url)
            _shared_engines[url] = engine
        else:
            _private_sqlite_file(engine.url)  # the file may have been removed since: made again, private
        return engine


def connect(url: str) -> Engine:
    """The process's engine for the URL: a new database is created at the newest schema, one at it is used as it is, an
    older one is refused naming `bot db upgrade` (bot.migrations); a clear ConfigError if the database cannot be opened."""
    from bot.migrations import ensure_schema

    engine = _shared_engine(url)
    try:
        ensure_schema(engine, metadata, _safe(url))
    except SQLAlchemyError as exc:
        raise ConfigError(f"cannot open database {_safe(url)}: {getattr(exc, 'orig', None) or exc}") from exc
    return engine


def upgrade(url: str) -> "Upgrade":
    """Bring the database at the URL to the newest schema (`bot db upgrade`)."""
    from bot.migrations import upgrade as upgrade_schema

    engine = _make_engine(url)
    try:
        return upgrade_schema(engine, metadata)
    except SQLAlchemyError as exc:
        raise ConfigError(f"cannot upgrade database {_safe(url)}: {getattr(exc, 'orig', None) or exc}") from exc
    finally:
        engine.dispose()
