"""Move the knowledge base between the reviewable kb/ files and the run-time database."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from bot.intents import load_intents
from bot.kb.files import read_kb, write_kb
from bot.kb.store import KBStore
from bot.settings import Settings


SOURCE_KEY = "imported_from"


@dataclass(frozen=True)
class ImportReport:
    entries: int
    approved: int
    shop_variables: int
    imported: bool = True


def files_fingerprint(kb_dir: Path) -> str:
    """Changes when any YAML file under kb_dir changes."""
    digest = hashlib.sha256()
    for path in sorted(kb_dir.rglob("*.yml")):
        digest.update(str(path.relative_to(kb_dir)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def import_kb(settings: Settings, path: Path | None = None, store: KBStore | None = None) -> ImportReport:
    """Validate kb/ whole, then replace the database's KB in one transaction (nothing on any error)."""
    kb_dir = Path(path or settings.kb_dir)
    content = read_kb(kb_dir, load_intents(settings.project_dir))
    (store or KBStore(settings.db_url)).replace_all(content, meta={SOURCE_KEY: files_fingerprint(kb_dir)})
    return ImportReport(len(content.entries), len(content.approved()), len(content.shop))


def import_kb_if_changed(settings: Settings, store: KBStore) -> ImportReport:
    """Import kb/ when the database has no KB or kb/ changed since its last import; else keep the live KB."""
    if store.count() and store.get_meta(SOURCE_KEY) == files_fingerprint(settings.kb_dir):
        content = store.load()
        return ImportReport(len(content.entries), len(content.approved()), len(content.shop), imported=False)
    return import_kb(settings, store=store)


def export_kb(settings: Settings, out_dir: Path, store: KBStore | None = None) -> list[Path]:
    """Write the database's KB as kb/-style YAML (shop.yml + entries/<intent>.yml)."""
    return write_kb((store or KBStore(settings.db_url)).load(), out_dir)
