"""Move the knowledge base between the reviewable kb/ files and the run-time database."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.intents import load_intents
from bot.kb.files import read_kb, write_kb
from bot.kb.store import KBStore
from bot.settings import Settings


@dataclass(frozen=True)
class ImportReport:
    entries: int
    approved: int
    shop_variables: int


def import_kb(settings: Settings, path: Path | None = None, store: KBStore | None = None) -> ImportReport:
    """Validate kb/ whole, then replace the database's KB in one transaction (nothing on any error)."""
    content = read_kb(path or settings.kb_dir, load_intents(settings.project_dir))
    (store or KBStore(settings.db_url)).replace_all(content)
    return ImportReport(len(content.entries), len(content.approved()), len(content.shop))


def export_kb(settings: Settings, out_dir: Path, store: KBStore | None = None) -> list[Path]:
    """Write the database's KB as kb/-style YAML (shop.yml + entries/<intent>.yml)."""
    return write_kb((store or KBStore(settings.db_url)).load(), out_dir)
