"""`bot eval`: run the engine (or two configurations) over a labelled log; write metrics, predictions and a report."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from bot.errors import ConfigError
from bot.evaluate import Outcome, metrics, pending_coverage, run
from bot.intents import load_intents
from bot.logs import LogItem, map_intent, read_intent_map, read_log
from bot.settings import Settings

ENGINES = ("bot", "response_selector", "bm25")


@dataclass(frozen=True)
class EvalConfig:
    """A named configuration: bot.yml overrides and, optionally, its own Rasa model."""

    name: str
    settings: Settings
    model: Path | None
    engine: str = "bot"  # or "response_selector": Rasa's ResponseSelector trained on the same KB; "bm25": words alone
    epochs: int = 60


def load_config(path: Path, base: Settings) -> EvalConfig:
    """A YAML file like `{name: no-blend, model: models/x.tar.gz, encoder: DIR, suggest: {retrieval_intent_weight: 0}}`."""
    from ruamel.yaml import YAML, YAMLError

    try:
        raw = YAML(typ="safe", pure=True).load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: must be a mapping")
    name = str(raw.pop("name", Path(path).stem))
    model = raw.pop("model", None)
    engine = str(raw.pop("engine", "bot"))
    if engine not in ENGINES:
        raise ConfigError(f"{path}: engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    epochs = int(raw.pop("epochs", 60))
    settings = base.with_overrides(data_dir=base.data_dir / "eval" / name)
    settings = replace(settings, db_url=base.db_url)
    for key in ("encoder", "encoder_backend"):
        if key in raw:
            settings = replace(settings, **{key: str(raw.pop(key))})
    for section in ("index", "suggest", "limits"):
        values = raw.pop(section, None) or {}
        part = getattr(settings, section)
        try:
            settings = replace(settings, **{section: replace(part, **{k: type(getattr(part, k))(v) for k, v in values.items()})})
        except (TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"{path}: bad setting in '{section}': {exc}") from exc
    if raw:
        raise ConfigError(f"{path}: unknown key(s): {', '.join(raw)}")
    return EvalConfig(name, settings, Path(model) if model else None, engine, epochs)


def _unknown_gold(items: list[LogItem], our_intents: tuple[str, ...], mapping: dict[str, str] | None) -> list[str]:
    predictable = {map_intent(i, mapping) for i in our_intents}
    counts: dict[str, int] = {}
    for item in items:
        if item.intent not in predictable:
            counts[item.intent] = counts.get(item.intent, 0) + 1
    return [f"gold intent '{label}' ({n} message(s)) is not one the model can predict" for label, n in sorted(counts.items())]


def evaluate_log(
    settings: Settings,
    log_path: Path,
    out_dir: Path,
    intent_map_path: Path | None = None,
    model: Path | None = None,
    compare: tuple[Path, ...] = (),
    echo: Callable[[str], None] = print,
    progress: bool = True,
) -> dict[str, Any]:
    from bot.report import render

    log = read_log(log_path)
    for problem in log.problems:
        echo(f"skipped {problem}")
    mapping = read_intent_map(intent_map_path) if intent_map_path else None
    notes = [f"{log_path}: {len(log.items)} messages" + (f", {len(log.problems)} bad line(s) skipped" if log.problems else "")]
    unknown = _unknown_gold(log.items, load_intents(settings.project_dir), mapping)
    for line in unknown:
        echo(line)
    notes += unknown
    configs = [load_config(p, settings) for p in compare] if compare else [EvalConfig("engine", settings, model)]
    runs: dict[str, tuple[dict[str, Any], list[Outcome]]] = {}
    for config in configs:
        _require_kb(config.settings)
        echo(f"[{config.name}] loading the engine")
        engine = _engine(config, model, echo)
        outcomes = run(engine, log.items, progress=progress, intent_map=mapping)
        result = metrics(outcomes)
        if any(not item.replied for item in log.items):
            result["pending"] = pending_coverage(engine, log.items)
            pending = result["pending"]
            if pending:
                line = (f"[{config.name}] bursts: {pending['bursts']}, pending coverage {pending['coverage']:.3f} of "
                        f"{pending['labelled_messages']} messages (in their own part {pending['attributed']:.3f}, listed {pending['listed']:.3f}; "
                        f"the last message's best suggestion alone: {pending['last_only']:.3f})")
                echo(line)
                notes.append(line)
        runs[config.name] = (result, outcomes)

    out_dir.mkdir(parents=True, exist_ok=True)
    if len(runs) == 1:
        (name, (result, outcomes)), = runs.items()
        summary: dict[str, Any] = result
        _write_predictions(out_dir / "predictions.jsonl", outcomes)
    else:
        first, last = list(runs)[0], list(runs)[-1]
        summary = {
            "configs": {name: result for name, (result, _) in runs.items()},
            "difference": {
                key: runs[last][0][key] - runs[first][0][key]
                for key in ("intent_accuracy", "intent_macro_f1", "intent_weighted_f1", "hit@1", "hit@3", "mrr", "abstention_rate")
                if isinstance(runs[first][0][key], float) and isinstance(runs[last][0][key], float)
            },
        }
        for name, (_, outcomes) in runs.items():
            _write_predictions(out_dir / f"predictions_{name}.jsonl", outcomes)
    summary["problems"] = log.problems + unknown
    (out_dir / "metrics.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    (out_dir / "report.html").write_text(render(runs, f"Evaluation: {Path(log_path).name}", notes), encoding="utf-8")
    echo(f"wrote {out_dir / 'metrics.json'}, predictions and {out_dir / 'report.html'}")
    return summary


def _require_kb(settings: Settings) -> None:
    """An empty KB would score every message as abstained: refuse it rather than report those figures."""
    from bot.kb.store import KBStore

    store = KBStore(settings.db_url)
    if not store.approved().entries:
        raise ConfigError(f"the knowledge base in {store.safe_url} has no approved entries: run `bot train` (or `bot kb import`) first")


def _engine(config: EvalConfig, model: Path | None, echo: Callable[[str], None]) -> Any:
    from bot.suggest import Engine

    if config.engine == "bot":
        engine = Engine.from_settings(config.settings, model_path=config.model or model)
        engine.encoder.clear_cache()  # each configuration pays for its own encoding: fair latencies
        return engine
    from bot import response_selector
    from bot.bm25_baseline import LexicalEngine
    from bot.kb.store import KBStore

    kb = KBStore(config.settings.db_url).load()
    if config.engine == "bm25":
        return LexicalEngine(kb, config.settings.limits.max_message_chars, config.settings.index.answer_weight)
    echo(f"[{config.name}] training Rasa's ResponseSelector on the KB ({config.epochs} epochs; reused when unchanged)")
    archive = config.model or response_selector.train(kb, config.settings.project_dir / "data" / "dict", config.settings.data_dir, config.epochs)
    return response_selector.ResponseSelectorEngine(archive, kb, config.settings.limits.max_message_chars)


def _write_predictions(path: Path, outcomes: list[Outcome]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for outcome in outcomes:
            handle.write(json.dumps(outcome.to_prediction(), ensure_ascii=False) + "\n")
