"""The schema's version (Alembic): a new database is made at the newest revision; an older one is brought up by
`bot db upgrade`, and until then every command refuses it and names that command.

A schema change is a new file in bot/migrations/versions/ (`op.add_column`, `op.create_index` ...) together with the
same change to the tables in bot/db.py; tests/test_migrations.py checks that the two agree.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator, NamedTuple

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from bot.errors import ConfigError

HERE = Path(__file__).resolve().parent
BASELINE = "0001"  # the schema as bot/db.py made it before migrations (main at bf721ca)
UPGRADE_COMMAND = "bot db upgrade"
_LOCK_KEY = 7_020_241  # PostgreSQL advisory lock: one process at a time creates or upgrades the schema


class Upgrade(NamedTuple):
    """What `bot db upgrade` did: the revision before (None: made before migrations, or new), after, and whether it was new."""

    before: str | None
    after: str
    created: bool


class SchemaOutdated(ConfigError):
    """The database was made by an older version: `bot db upgrade` brings it up (nothing is lost)."""


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def head() -> str:
    revision = ScriptDirectory.from_config(_config(None)).get_current_head()  # type: ignore[arg-type]
    assert revision is not None
    return revision


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    return frozenset(script.revision for script in ScriptDirectory.from_config(_config(None)).walk_revisions())  # type: ignore[arg-type]


def current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def _schema_lock(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction, holding (on PostgreSQL) the lock that serialises schema work across processes."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        yield conn


def _made_before_migrations(conn: Connection) -> bool:
    return sa.inspect(conn).has_table("kb_entries")


def _create_if_new(conn: Connection, metadata: sa.MetaData, at: str | None) -> bool:
    """An empty database (no revision `at`, no tables) gets every table at the newest revision (True)."""
    if at is not None or _made_before_migrations(conn):
        return False
    metadata.create_all(conn)
    command.stamp(_config(conn), "head")
    return True


def ensure_schema(engine: Engine, metadata: sa.MetaData, where: str) -> None:
    """Create a new database at the newest revision; accept one at it; refuse an older one, naming the command."""
    with _schema_lock(engine) as conn:
        at = current(conn)
        if _create_if_new(conn, metadata, at):
            return
    newest = head()
    if at is not None and at != newest and at not in _known():
        raise SchemaOutdated(f"database {where} has schema revision {at}, made by a newer version than this one "
                             f"(which knows up to {newest}): run that version")
    if at != newest:
        made = f"revision {at}" if at else "a version from before migrations"
        raise SchemaOutdated(f"database {where} has the schema of {made}, this version needs {newest}: "
                             f"run `{UPGRADE_COMMAND}` (add --db if you pass one) to bring it up; nothing is lost")


def upgrade(engine: Engine, metadata: sa.MetaData) -> Upgrade:
    """Bring the database to the newest revision (a new one is created there)."""
    with _schema_lock(engine) as conn:
        before = current(conn)
        if _create_if_new(conn, metadata, before):
            return Upgrade(None, head(), created=True)
        if before is None:  # made before migrations: it has the baseline's tables
            command.stamp(_config(conn), BASELINE)
        command.upgrade(_config(conn), "head")
        return Upgrade(before, head(), created=False)
