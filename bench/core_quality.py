"""Core-engine figures: intent accuracy, macro-F1, hit@1/3 on held-out paraphrases, and suggest() latency.

    .venv/bin/python bench/core_quality.py                       # the held-out test set, newest model in models/
    .venv/bin/python bench/core_quality.py --data tests/data/paraphrases_dev.yml --model models/x.tar.gz

Latency is reported in ms and as a ratio to a baseline measured in the same run (one raw encoder call),
because these machines are noisy: compare ratios across runs, not milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
PROJECT = Path(__file__).resolve().parents[1]
SUMMARY = ("n", "intent_accuracy", "intent_macro_f1", "n_with_replies", "hit@1", "hit@3", "mrr", "abstention_rate")
sys.path.insert(0, str(PROJECT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=PROJECT / "tests/data/paraphrases_test.yml")
    parser.add_argument("--model", type=Path, default=None, help="Rasa model (default: newest in models/)")
    parser.add_argument("--repeat", type=int, default=3, help="latency passes over the data (0: quality only)")
    parser.add_argument("--errors", action="store_true", help="list the misses")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.NAME=VALUE",
                        help="override a bot.yml setting for an ablation, e.g. suggest.retrieval_intent_weight=0")
    args = parser.parse_args()

    from ruamel.yaml import YAML

    from bot import evaluate
    from bot.kb.sync import import_kb
    from bot.settings import load_settings
    from bot.suggest import Engine

    items = evaluate.labelled(YAML(typ="safe", pure=True).load(args.data.read_text(encoding="utf-8")))
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(PROJECT, data_dir=Path(tmp))
        for assignment in args.set:
            name, value = assignment.split("=", 1)
            section, key = name.split(".", 1)
            part = getattr(settings, section)
            settings = replace(settings, **{section: replace(part, **{key: type(getattr(part, key))(value)})})
        import_kb(settings)
        engine = Engine.from_settings(settings, model_path=args.model)
        outcomes = evaluate.run(engine, items, progress=True)
        quality = evaluate.metrics(outcomes)

        texts = [i.text for i in items]
        engine.suggest(texts[0])  # warm-up
        suggest_ms, baseline_ms = [], []
        for _ in range(args.repeat):
            for text in texts:
                start = time.perf_counter()
                engine.encoder.encode([text])  # baseline: one uncached encoder call
                baseline_ms.append((time.perf_counter() - start) * 1000)
                engine.encoder.clear_cache()  # suggest pays for its own encoding, as for a new message
                start = time.perf_counter()
                engine.suggest(text)
                suggest_ms.append((time.perf_counter() - start) * 1000)

    def pct(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]

    report = {
        "settings_overridden": args.set,
        "data": str(args.data.relative_to(PROJECT) if args.data.is_relative_to(PROJECT) else args.data),
        **{k: round(v, 4) if isinstance(v, float) else v for k, v in quality.items() if k in SUMMARY},
    }
    if suggest_ms:  # --repeat 0: quality only
        base = statistics.median(baseline_ms)
        report |= {
            "suggest_ms_p50": round(pct(suggest_ms, 50), 1),
            "suggest_ms_p95": round(pct(suggest_ms, 95), 1),
            "baseline_encode_ms_p50": round(base, 1),
            "suggest_p50_over_encode": round(pct(suggest_ms, 50) / base, 2),
            "suggest_p95_over_encode": round(pct(suggest_ms, 95) / base, 2),
            "latency_samples": len(suggest_ms),
        }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if args.errors:
        for o in outcomes:
            rank = o.rank()
            if o.predicted_intent != o.item.intent or (o.item.reply_ids and (rank is None or rank > 3)):
                print(f"{o.item.text}\tgold={o.item.intent} pred={o.predicted_intent} {o.confidence:.2f}"
                      f"\treplies={list(o.item.reply_ids)} got={list(o.reply_ids)} abstained={o.abstained}")


if __name__ == "__main__":
    main()
