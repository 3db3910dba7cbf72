"""The KB store on a real PostgreSQL server that the test starts itself (skipped, with the reason, where none is installed)."""

from __future__ import annotations

from pathlib import Path

from bot.kb.store import KBStore
from bot.kb.sync import export_kb, import_kb

PROJECT = Path(__file__).resolve().parents[1]


def test_kb_round_trip_through_postgresql(postgres_url: str, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = KBStore(postgres_url)
    import_kb(settings, store=store)
    export_kb(settings, tmp_path / "out", store=store)
    files = lambda d: {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*.yml"))}  # noqa: E731
    assert files(tmp_path / "out") == files(PROJECT / "kb")
    sqlite = KBStore(settings.db_url)
    import_kb(settings, store=sqlite)
    assert store.load() == sqlite.load()
    store.close()


def test_the_servers_stores_share_one_connection_pool(postgres_url: str) -> None:
    """Accounts, conversations and the KB of one process use one engine: one pool of up to 15 PostgreSQL connections,
    not one per store (`bot serve` opens all three on the same database)."""
    from bot.auth import AuthStore
    from bot.conversations import ConversationStore

    auth, conversations, kb = AuthStore(postgres_url), ConversationStore(postgres_url), KBStore(postgres_url)
    assert auth.db is conversations.db is kb.db
    auth.add_user("pool-agent", "agent", "a long enough password 1")
    conversations.add_message("pool-1", "buyer", "包邮吗")
    assert "pool-agent" in [u["name"] for u in auth.users()] and [m.text for m in conversations.messages("pool-1")] == ["包邮吗"]
    kb.close()  # disposing the shared pool's idle connections leaves the others working: a new pool is made
    assert [m.text for m in conversations.messages("pool-1")] == ["包邮吗"]


def test_a_change_committed_late_is_still_read_by_every_engine(postgres_url: str) -> None:
    """Engines poll kb_changes for seqs above the last they read. On PostgreSQL a writer that took seq 1 may commit after
    one that took seq 2; a poll in between must not move past 1, or that change never reaches the engine (it did)."""
    import threading
    import time

    import sqlalchemy as sa

    from bot.db import log_kb_change

    from pg_server import fresh_database

    store = KBStore(fresh_database(postgres_url, "late_change"))
    engine = store.db
    first = engine.connect()
    slow = first.begin()
    log_kb_change(first, "default", "price.coupons")  # takes seq 1 and stays open
    second = threading.Thread(target=lambda: _logged(engine, "shipping_fee.free_threshold"))
    second.start()
    deadline = time.monotonic() + 30
    with engine.connect() as watch:  # until the second writer has finished, or waits on the first
        while second.is_alive() and time.monotonic() < deadline:
            waiting = watch.execute(sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).scalar_one()
            if waiting:
                break
            time.sleep(0.01)
    seq, seen = store.changes_since(0)  # an engine polls now
    slow.commit()
    first.close()
    second.join(timeout=30)
    assert not second.is_alive()
    _, later = store.changes_since(seq)
    assert (seen or set()) | (later or set()) == {"price.coupons", "shipping_fee.free_threshold"}
    store.close()


def _logged(engine, entry_id: str) -> None:  # type: ignore[no-untyped-def]
    from bot.db import log_kb_change

    with engine.begin() as conn:
        log_kb_change(conn, "default", entry_id)
