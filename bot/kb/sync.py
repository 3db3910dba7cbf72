"""Move the knowledge base between files (kb/ YAML, or one CSV) and the run-time database."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable

from bot.errors import BotError
from bot.intents import load_intents
from bot.kb import KBContent
from bot.kb.csv_io import parse_csv, read_csv, write_csv
from bot.kb.files import read_kb, write_kb
from bot.kb.store import KBStore
from bot.settings import Settings
from bot.shops import DEFAULT_SHOP

SOURCE_KEY = "imported_from"  # fingerprint of the kb/ files the database was last in step with
REVISIONS_KEY = "revisions_at_import"  # how many versions the history held at that moment


@dataclass(frozen=True)
class ImportReport:
    entries: int
    approved: int
    shop_variables: int
    imported: bool = True


class KBDiverged(BotError):
    """kb/ changed on disk and editors changed the database since the last import: neither side may win silently."""


def files_fingerprint(kb_dir: Path) -> str:
    """Changes when any YAML file under kb_dir changes."""
    digest = hashlib.sha256()
    for path in sorted(Path(kb_dir).rglob("*.yml")):
        digest.update(str(path.relative_to(kb_dir)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def is_csv(path: Path) -> bool:
    return Path(path).suffix.lower() == ".csv"


def read_source(settings: Settings, path: Path, store: KBStore) -> KBContent:
    """A kb/-style directory or a CSV file, validated whole (a CSV keeps the layer's profile: see `csv_for`)."""
    intents = load_intents(settings.project_dir)
    if is_csv(path):
        return _with_own_profile(read_csv(path, intents, store.shop()), store)
    return read_kb(path, intents)


def csv_for(store: KBStore, data: bytes, intents: Iterable[str], name: str = "upload.csv") -> KBContent:
    """A CSV's entries for the store's layer, validated whole. Their answers are checked against the profile that fills
    them (the common layer's values and the layer's own, as the editor checks them), and the layer keeps its own profile:
    a CSV carries none, and the common layer's values are not copied into a shop's."""
    return _with_own_profile(parse_csv(data, intents, store.shop(), name), store)


def _with_own_profile(content: KBContent, store: KBStore) -> KBContent:
    return replace(content, shop=store.own_profile())


def _mark_in_step(settings: Settings, store: KBStore) -> None:
    """Record that the database and kb/ hold the same KB now."""
    store.set_meta({SOURCE_KEY: files_fingerprint(settings.kb_dir), REVISIONS_KEY: str(store.revision_count())})


def import_kb(settings: Settings, path: Path | None = None, store: KBStore | None = None, author: str = "import") -> ImportReport:
    """Validate kb/ (or a directory or CSV file) whole, then replace the database's KB in one transaction.

    Nothing is written on any error. Entries missing from the source are retired, and every change is
    a new version in the history, so an import can be undone entry by entry.
    """
    store = store or KBStore(settings.db_url)
    source = Path(path or settings.kb_dir)
    content = read_source(settings, source, store)
    store.replace_all(content, author=author)
    if source.resolve() == settings.kb_dir.resolve() and store.shop_name == DEFAULT_SHOP:
        _mark_in_step(settings, store)
    return ImportReport(len(content.entries), len(content.approved()), len(content.shop))


def edited_since_import(store: KBStore) -> int:
    """How many versions were saved since the database was last in step with kb/: all of them if it never was."""
    recorded = store.get_meta(REVISIONS_KEY)
    return store.revision_count() - (int(recorded) if recorded is not None else 0)


def import_kb_if_changed(settings: Settings, store: KBStore) -> ImportReport:
    """Import kb/ when the database has no KB or kb/ changed since its last import; else keep the live KB.

    If kb/ changed *and* editors changed the database since, refuse: the user decides which side wins. A KB that never
    came from kb/ (a CSV import, the editor) counts as edited throughout: it is never replaced without a word.
    """
    if store.count():
        recorded = store.get_meta(SOURCE_KEY)
        if recorded == files_fingerprint(settings.kb_dir):
            content = store.load()
            return ImportReport(len(content.entries), len(content.approved()), len(content.shop), imported=False)
        edits = edited_since_import(store)
        if edits > 0:
            how = (
                f"{settings.kb_dir} changed since the last import, and editors saved {edits} version(s) in the database since then"
                if recorded is not None
                else f"the database's KB did not come from {settings.kb_dir} (a CSV import or the editor: {edits} version(s))"
            )
            raise KBDiverged(
                f"{how}. Keep the database's KB with `bot kb export {settings.kb_dir}` (then review the diff), "
                f"or replace it with `bot kb import` (its history keeps every version)."
            )
    return import_kb(settings, store=store)


def export_kb(settings: Settings, out: Path, store: KBStore | None = None) -> list[Path]:
    """Write the database's KB as kb/-style YAML (shop.yml + entries/<intent>.yml), or as one CSV file."""
    store = store or KBStore(settings.db_url)
    content = store.load()
    written = [write_csv(content, out)] if is_csv(out) else write_kb(content, out)
    if not is_csv(out) and Path(out).resolve() == settings.kb_dir.resolve() and store.shop_name == DEFAULT_SHOP:
        _mark_in_step(settings, store)
    return written
