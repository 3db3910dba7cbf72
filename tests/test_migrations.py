"""Schema migrations (Alembic) on real SQLite and PostgreSQL: a database made before migrations (fixtures made by
main at bf721ca) is refused until `bot db upgrade`, which keeps every row; a new database is made at the newest schema."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.auth import AuthStore
from bot.db import metadata
from bot.kb.store import KBStore
from bot.migrations import SchemaOutdated, head

DATA = Path(__file__).resolve().parent / "data"
PROJECT = Path(__file__).resolve().parents[1]
BOT = str(Path(sys.executable).parent / "bot")
SHOP_KEYED = ("kb_entries", "kb_questions", "kb_pending", "kb_revisions", "shop_profile", "kb_changes", "conversations")
NEW_COLUMNS = {"feedback": {"agent", "suggested_chars", "latency_ms", "wait_ms"}, **{table: {"shop"} for table in SHOP_KEYED}}
NEW_TABLES = {"alembic_version", "shops", "user_shops", "token_shops"}


def _rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (the columns a database made before migrations has), in a stable order."""
    engine = sa.create_engine(url, future=True)
    inspector = sa.inspect(engine)
    rows = {}
    with engine.connect() as conn:
        for name in sorted(inspector.get_table_names()):
            if name in NEW_TABLES:
                continue
            columns = [c["name"] for c in inspector.get_columns(name) if c["name"] not in NEW_COLUMNS.get(name, set())]
            select = sa.text(f"SELECT {', '.join(columns)} FROM {name} ORDER BY {', '.join(columns[:3])}")
            rows[name] = [tuple(r) for r in conn.execute(select)]
    engine.dispose()
    return rows


def _schema_differences(url: str) -> list[Any]:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = sa.create_engine(url, future=True)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    return differences


def _bot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BOT, *args], cwd=PROJECT, capture_output=True, text=True, timeout=300)


def _refused_then_upgraded(url: str) -> None:
    before = _rows(url)
    assert before["kb_entries"] and before["kb_revisions"] and before["feedback"] and before["users"] and before["sessions"]
    with pytest.raises(SchemaOutdated, match="bot db upgrade"):
        KBStore(url)
    refused = _bot("kb", "list", "--db", url)
    assert refused.returncode != 0 and "bot db upgrade" in refused.stderr
    served = _bot("serve", "--db", url, "--port", "9")
    assert served.returncode != 0 and "bot db upgrade" in served.stderr

    upgraded = _bot("db", "upgrade", "--db", url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"upgraded from before migrations to revision {head()}" in upgraded.stdout
    assert _rows(url) == before  # not an entry, a version, a feedback row, an account or a session lost
    assert _schema_differences(url) == []
    engine = sa.create_engine(url, future=True)
    with engine.connect() as conn:  # what the database held is shop `default` now
        assert conn.execute(sa.text("SELECT name FROM shops")).scalars().all() == ["default"]
        for table in SHOP_KEYED:
            assert set(conn.execute(sa.text(f"SELECT DISTINCT shop FROM {table}")).scalars()) <= {"default"}, table
        served = conn.execute(sa.text("SELECT user_name, shop FROM user_shops ORDER BY user_name")).all()
        key = sa.inspect(conn).get_pk_constraint("kb_entries")["constrained_columns"]
    engine.dispose()
    assert key == ["shop", "id"]
    assert [tuple(r) for r in served] == [(name, "default") for name, *_ in before["users"]]  # every account serves it
    assert "already at schema revision" in _bot("db", "upgrade", "--db", url).stdout

    kb = KBStore(url)
    assert [r.action for r in kb.history("shipping_fee.free_threshold")][-2:] == ["edit", "approve"]
    assert kb.get("shipping_fee.free_threshold").answer.endswith("~")
    assert AuthStore(url).verify("agent1", "agent1-password-x") == "agent"
    listed = _bot("kb", "list", "--db", url)
    assert listed.returncode == 0 and "shipping_fee.free_threshold" in listed.stdout


def test_sqlite_made_before_migrations_is_refused_then_upgraded_without_loss(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    shutil.copy(DATA / "db_before_migrations.sqlite", path)
    _refused_then_upgraded(f"sqlite:///{path}")


def test_postgres_made_before_migrations_is_refused_then_upgraded_without_loss(postgres_url: str) -> None:
    from pg_server import fresh_database

    url = fresh_database(postgres_url, "before_migrations")
    psql = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))[-1]
    address = sa.engine.make_url(url)
    loaded = subprocess.run([psql, "-v", "ON_ERROR_STOP=1", "-q", "-h", address.host, "-p", str(address.port), "-U", "postgres",
                             "-d", address.database, "-f", str(DATA / "db_before_migrations.pg.sql")],
                            capture_output=True, text=True, timeout=120, env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"})
    assert loaded.returncode == 0, loaded.stderr
    _refused_then_upgraded(url)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_new_database_is_made_at_the_newest_schema(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    else:
        from pg_server import fresh_database

        url = fresh_database(request.getfixturevalue("postgres_url"), "new_schema")
    KBStore(url)
    engine = sa.create_engine(url, future=True)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == head()
    engine.dispose()
    assert _schema_differences(url) == []
    created = _bot("db", "upgrade", "--db", url.replace("new.sqlite3", "other.sqlite3") if kind == "sqlite" else url)
    assert created.returncode == 0 and ("new database created" in created.stdout or "already at" in created.stdout)


def test_a_database_from_a_newer_version_is_refused_saying_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'newer.sqlite3'}"
    KBStore(url)
    engine = sa.create_engine(url, future=True)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(SchemaOutdated, match="newer version"):
        KBStore(url)
