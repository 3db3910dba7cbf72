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


def test_an_import_racing_edits_conflicts_cleanly(postgres_url: str, settings) -> None:  # type: ignore[no-untyped-def]
    """A whole-KB import while editors edit and approve entries: each side either lands whole or is told to retry (a
    conflict); no deadlock or key clash reaches the editor as a 500, and every entry's history stays numbered 1, 2, 3 ..."""
    import threading
    from dataclasses import replace

    from bot.intents import load_intents
    from bot.kb.files import read_kb
    from bot.kb.records import ImportConflict, InvalidTransition, VersionConflict

    from pg_server import fresh_database

    store = KBStore(fresh_database(postgres_url, "import_race"))
    content = read_kb(PROJECT / "kb", load_intents(PROJECT))
    store.replace_all(content)
    targets = [e.id for e in content.entries if e.status == "approved"][:6]
    expected = (VersionConflict, ImportConflict, InvalidTransition)
    failures: list[str] = []
    conflicts = {"import": 0, "edit": 0}
    stop = threading.Event()

    def importer() -> None:
        for n in range(8):
            changed = replace(content, entries=tuple(replace(e, answer=f"{e.answer} (导入{n})") if e.id in targets else e for e in content.entries))
            try:
                store.replace_all(changed, author="import")
            except ImportConflict:
                conflicts["import"] += 1
            except Exception as exc:  # noqa: BLE001 - what the test counts
                failures.append(f"import: {type(exc).__name__}: {exc}".splitlines()[0])
        stop.set()

    def editor(entry_ids: list[str]) -> None:
        n = 0
        while not stop.is_set():
            for entry_id in entry_ids:
                n += 1
                try:
                    record = store.record(entry_id)
                    assert record is not None
                    edited = store.edit(entry_id, replace(record.entry, answer=f"{record.entry.answer} (编辑{n})"), record.version, "ed")
                    store.approve(entry_id, edited.version, "ed")
                except expected:
                    conflicts["edit"] += 1
                except Exception as exc:  # noqa: BLE001 - what the test counts
                    failures.append(f"edit: {type(exc).__name__}: {exc}".splitlines()[0])

    threads = [threading.Thread(target=importer)] + [threading.Thread(target=editor, args=(targets[i::2],)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == [], f"{len(failures)} failures: {sorted(set(failures))[:5]} (conflicts {conflicts})"
    assert conflicts["edit"] > 0, "the edits never met the imports: the race was not run"
    for entry_id in targets:
        versions = [r.version for r in store.history(entry_id)]
        assert versions == list(range(1, len(versions) + 1)), entry_id
        assert store.record(entry_id).version == versions[-1]  # type: ignore[union-attr]
    store.close()


def test_an_import_adding_an_entry_created_meanwhile_is_a_conflict(postgres_url: str, settings) -> None:  # type: ignore[no-untyped-def]
    """The import adds an id an editor is creating at that moment: the import waits for the create, then is refused
    whole as a conflict to retry (it was a UniqueViolation, a 500); the editor's entry stands."""
    import threading
    import time
    from dataclasses import replace

    import sqlalchemy as sa

    from bot.db import now
    from bot.intents import load_intents
    from bot.kb import Entry
    from bot.kb.files import read_kb
    from bot.kb.records import ImportConflict
    from bot.kb.rows import write_entry, write_revision

    from pg_server import fresh_database

    store = KBStore(fresh_database(postgres_url, "import_adds"))
    content = read_kb(PROJECT / "kb", load_intents(PROJECT))
    store.replace_all(content)
    new = Entry("product_info.created_meanwhile", "product_info", "approved", (), ("可以刻字吗",), "亲,可以免费刻字哦~")
    outcome: list[BaseException | None] = []

    def run_import() -> None:
        try:
            store.replace_all(replace(content, entries=(*content.entries, new)), author="import")
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - the outcome is what the test checks
            outcome.append(exc)

    with store.db.connect() as conn:
        creating = conn.begin()
        draft = replace(new, status="draft", answer="亲,刻字要看款式哦~")
        write_revision(conn, store.shop_name, draft, 1, "create", "ed", now())
        write_entry(conn, store.shop_name, draft, 1, "ed", now(), insert=True)
        importing = threading.Thread(target=run_import)
        importing.start()
        deadline = time.monotonic() + 30
        with store.db.connect() as watch:  # until the import waits on the uncommitted entry
            while importing.is_alive() and time.monotonic() < deadline:
                waiting = sa.text("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND a.datname = current_database()")
                if watch.execute(waiting).scalar_one():
                    break
                time.sleep(0.01)
        creating.commit()
    importing.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], ImportConflict), outcome
    record = store.record(new.id)
    assert record is not None and record.entry.answer == "亲,刻字要看款式哦~" and record.version == 1
    assert store.load(status="approved").entries == tuple(e for e in content.entries if e.status == "approved")
    store.close()
