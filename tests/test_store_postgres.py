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
