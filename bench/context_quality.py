"""Context figures: intent accuracy and hit@k on follow-up messages, with and without the conversation so far.

    .venv/bin/python bench/context_quality.py                    # held-out tests/data/context_test.yml
    .venv/bin/python bench/context_quality.py --data tests/data/context_dev.yml --errors

Three readings of each conversation's final message: alone; with the earlier turns, the agent's replies
as plain text (the reply the dialogue model predicts stands in for them); with the KB entries the agent
sent. Writes bench/results/context_quality.json. Tune only on the dev set.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=PROJECT / "tests/data/context_test.yml")
    parser.add_argument("--model", type=Path, default=None, help="Rasa model (default: newest in models/)")
    parser.add_argument("--errors", action="store_true", help="list the misses of the context readings")
    args = parser.parse_args()

    from bot import context_eval
    from bot.kb.sync import import_kb
    from bot.settings import load_settings
    from bot.suggest import Engine

    conversations = context_eval.load_conversations(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(PROJECT, data_dir=Path(tmp))
        import_kb(settings)
        engine = Engine.from_settings(settings, model_path=args.model)
        engine.suggest("你好")  # warm-up
        results = {mode: context_eval.run(engine, conversations, mode) for mode in context_eval.MODES}

    print(f"\n{args.data.name}: {len(conversations)} conversations, model {engine.classifier.model_path.name}\n")
    print("| reading | intent accuracy | hit@1 | hit@3 | median ms |")
    print("|---|---|---|---|---|")
    for mode, result in results.items():
        median = statistics.median(o["ms"] for o in result["outcomes"])
        print(f"| {context_eval.MODES[mode]} | {result['intent_accuracy']:.3f} | {result['hit@1']:.3f} "
              f"| {result['hit@3']:.3f} | {median:.1f} |")
    if args.errors:
        for mode in ("text", "entries"):
            for o in results[mode]["outcomes"]:
                if not o["correct"] or o["rank"] is None:
                    print(f"  [{mode}] {o['id']} {o['message']}: gold {o['gold']}, got {o['predicted']} {o['suggested']}")
    out = PROJECT / "bench" / "results" / "context_quality.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"data": str(args.data.name), **results}, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nwrote {out.relative_to(PROJECT)}")


if __name__ == "__main__":
    main()
