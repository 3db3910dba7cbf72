"""Tune the engine's scoring settings on the TUNING part of real_dev only (never its report part).

    .venv/bin/python bench/tune_real.py                                  # the default grid
    .venv/bin/python bench/tune_real.py --grid suggest.min_score=0.55,0.6,0.65 --grid suggest.holding_score=0.5,0.6

Runs this tree's engine in process with the Rasa model bench/real_quality.py trained for it (NLU parses and embeddings
are cached, so only the scoring is repeated), and prints the tuning part's figures for every grid point, best first by
acceptable-first on messages plus top-3 on conversations among the points that offer a reply on at most
--max-offered of the unanswerable lines. Copy the chosen values into bot.yml by hand: tuning is a decision.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "bench"))

DEFAULT_GRID = {
    "suggest.min_score": ["0.55", "0.58", "0.61", "0.64", "0.67"],
    "suggest.holding_score": ["0.5", "0.55", "0.6", "0.65"],
    "suggest.intent_weight": ["0.2", "0.3", "0.4"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grid", action="append", default=[], metavar="SECTION.NAME=V1,V2,...")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--max-offered", type=float, default=0.3, help="most offered-on-unanswerable accepted (each file)")
    parser.add_argument("--top", type=int, default=15, help="grid points printed")
    parser.add_argument("--encoder", help="use this encoder directory as it is (no fine-tuning for this tree)")
    args = parser.parse_args()

    from real_quality import encoders_for, model_for

    from bot.kb.sync import import_kb
    from bot.settings import load_settings
    from bot.suggest import Engine

    import real_dev

    grid = dict(DEFAULT_GRID)
    if args.grid:
        grid = {name: values.split(",") for name, values in (g.split("=", 1) for g in args.grid)}
    fixed = [name for name in grid if not name.startswith("suggest.")]
    if fixed:  # the index and the encoder take their settings when they are built, once, before the grid
        parser.error(f"{', '.join(fixed)}: only suggest.* settings change between grid points here; compare others "
                     "with bench/real_quality.py --only after --set NAME=VALUE")
    data = real_dev.load((args.data_dir or real_dev.DEFAULT_DIR).resolve())
    relabels = real_dev.read_relabels()
    tune = {file: real_dev.relabel([line for line in lines if line.part == "tune"], relabels) for file, lines in data.items()}

    if args.encoder:
        os.environ["BOT_ENCODER"] = args.encoder
    else:
        encoders = encoders_for(PROJECT)
        if encoders is not None:
            os.environ["BOT_MODELS_DIR"] = str(encoders)
    with tempfile.TemporaryDirectory() as tmp:
        base = load_settings(PROJECT, data_dir=Path(tmp))
        if args.encoder:
            base = real_dev.with_setting(base, "finetune.enabled", "false")
        import_kb(base)
        engine = Engine.from_settings(base, model_path=model_for(PROJECT))
        engine._parse = functools.lru_cache(maxsize=None)(engine._parse)  # type: ignore[method-assign]
        rows = []
        names = list(grid)
        for values in itertools.product(*(grid[n] for n in names)):
            settings = base
            for name, value in zip(names, values):
                settings = real_dev.with_setting(settings, name, value)
            engine.settings = settings
            engine.forget_readings()
            figures = {}
            for file, lines in tune.items():
                predictions = {}
                for line in lines:
                    result = engine.suggest(line.text, context=list(line.context) or None)
                    predictions[line.key] = {"intent": result.intent.name, "ids": [r.id for r in result.suggestions],
                                             "abstained": result.abstained}
                figures[file] = real_dev.score(lines, predictions)
            rows.append((dict(zip(names, values)), figures))
            print(".", end="", flush=True)
    print()

    def objective(row: tuple[dict[str, str], dict[str, Any]]) -> tuple[bool, float]:
        m, c = row[1]["messages.jsonl"], row[1]["conversations.jsonl"]
        ok = m["offered_on_unanswerable"] <= args.max_offered and c["offered_on_unanswerable"] <= args.max_offered
        return ok, m["first"] + m["top3"] + c["top3"]

    rows.sort(key=objective, reverse=True)
    print("| " + " | ".join(names) + " | msg intent acc / core4 F1 | msg first / top3 | msg offered-unans | conv intent acc / core4 F1 "
          "| conv first / top3 | conv offered-unans |")
    print("|" + "---|" * (len(names) + 6))
    for point, figures in rows[: args.top]:
        m, c = figures["messages.jsonl"], figures["conversations.jsonl"]
        print("| " + " | ".join(point[n] for n in names)
              + f" | {m['intent_accuracy']:.3f} / {m['core_intent_macro_f1']:.3f} | {m['first']:.3f} / {m['top3']:.3f}"
              + f" | {m['offered_on_unanswerable']:.3f} | {c['intent_accuracy']:.3f} / {c['core_intent_macro_f1']:.3f}"
              + f" | {c['first']:.3f} / {c['top3']:.3f} | {c['offered_on_unanswerable']:.3f} |")


if __name__ == "__main__":
    main()
