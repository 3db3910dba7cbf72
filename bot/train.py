"""`bot train`: load kb/ into the database, fine-tune the encoder, build the index, train the Rasa model; each step shown."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.kb import KBContent
    from bot.kb.store import KBStore
    from bot.kb.sync import ImportReport


@dataclass(frozen=True)
class TrainReport:
    entries: int
    approved: int
    index_built: bool
    model: Path
    encoder: Path


def train_all(settings: Settings, nlu_only: bool = False, echo: Callable[[str], None] = print) -> TrainReport:
    """Everything the engine needs, cheapest and most likely to fail first."""
    from bot.conversations import ConversationStore
    from bot.encoder import encoder_for, encoder_path, resolve_encoder
    from bot.finetune import finetune_encoder
    from bot.index.storage import index_for
    from bot.kb.store import KBStore
    from bot.nlu import train_model

    store = KBStore(settings.db_url)
    report, content, nlu_file = knowledge_base_step(settings, store, echo)
    if settings.finetune.enabled:
        sent = ConversationStore(settings.db_url).sent_suggestions()
        echo(f"[2/4] Fine-tuning encoder '{settings.encoder}' on the KB's phrasings and {len(sent)} sent suggestions")
        path, trained = finetune_encoder(settings.models_dir, resolve_encoder(settings.encoder), content, sent, settings.finetune, echo, progress=True)
        echo(f"      {path} ({'trained' if trained else 'unchanged, reused'})")
    else:
        echo("[2/4] Encoder fine-tuning is off (finetune.enabled: false in bot.yml)")
    echo(f"[3/4] Building the retrieval index with encoder {encoder_path(settings).name} ({settings.encoder_backend})")
    index, built = index_for(settings, content, encoder_for(settings), progress=True)
    echo(f"      {len(index)} entries, {len(index.rows)} rows, {'built' if built else 'unchanged, reused'}")
    echo(f"[4/4] Training the Rasa model (config.yml, domain.yml, data/ with the KB's questions in {nlu_file.name});")
    echo("      unchanged data reuses the last model")
    model = train_model(settings.project_dir, settings.models_dir, nlu_only=nlu_only)
    echo(f"      model: {model}")
    return TrainReport(report.entries, report.approved, built, model, encoder_path(settings))


def knowledge_base_step(settings: Settings, store: KBStore, echo: Callable[[str], None] = print) -> tuple[ImportReport, KBContent, Path]:
    """Step 1: kb/ into the database when it changed, then what the shop's agents are suggested (the approved entries
    of both layers, and the profile that fills them): written as NLU examples, and returned for fine-tuning and the
    index, so that all three learn the KB the engine answers from."""
    from bot.kb.nlu_export import write_kb_nlu
    from bot.kb.sync import import_kb_if_changed

    echo(f"[1/4] Knowledge base: {settings.kb_dir} -> {store.safe_url}")
    report = import_kb_if_changed(settings, store)
    state = "imported" if report.imported else "kb/ unchanged since the last import, kept the live KB"
    echo(f"      {report.entries} entries ({report.approved} approved), {report.shop_variables} shop variables; {state}")
    content = store.approved()
    nlu_file = write_kb_nlu(content, settings.project_dir / "data" / "nlu")  # as `bot kb nlu` writes it
    echo(f"      {nlu_file} written (the approved questions as NLU examples)")
    return report, content, nlu_file
