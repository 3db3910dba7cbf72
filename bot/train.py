"""`bot train`: load kb/ into the database, build the index, train the Rasa model; each step shown."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bot.settings import Settings


@dataclass(frozen=True)
class TrainReport:
    entries: int
    approved: int
    index_built: bool
    model: Path


def train_all(settings: Settings, nlu_only: bool = False, echo: Callable[[str], None] = print) -> TrainReport:
    """Everything the engine needs, cheapest and most likely to fail first."""
    from bot.encoder import encoder_for
    from bot.index import index_for
    from bot.kb.store import KBStore
    from bot.kb.nlu_export import write_kb_nlu
    from bot.kb.sync import import_kb_if_changed
    from bot.nlu import train_model

    store = KBStore(settings.db_url)
    echo(f"[1/3] Knowledge base: {settings.kb_dir} -> {store.safe_url}")
    report = import_kb_if_changed(settings, store)
    state = "imported" if report.imported else "kb/ unchanged since the last import, kept the live KB"
    echo(f"      {report.entries} entries ({report.approved} approved), {report.shop_variables} shop variables; {state}")
    echo(f"[2/3] Building the retrieval index with encoder '{settings.encoder}' ({settings.encoder_backend})")
    content = store.load()
    index, built = index_for(settings, content, encoder_for(settings), progress=True)
    echo(f"      {len(index)} entries, {len(index.rows)} rows, {'built' if built else 'unchanged, reused'}")
    nlu_file = write_kb_nlu(content, settings.project_dir / "data" / "nlu")
    echo(f"[3/3] Training the Rasa model (config.yml, domain.yml, data/ with the KB's questions in {nlu_file.name});")
    echo("      unchanged data reuses the last model")
    model = train_model(settings.project_dir, settings.models_dir, nlu_only=nlu_only)
    echo(f"      model: {model}")
    return TrainReport(report.entries, report.approved, built, model)
