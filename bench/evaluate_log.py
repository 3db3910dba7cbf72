"""Evaluate the shipped labelled chat log (tests/data/chat_log.jsonl) and compare with the baselines.

    .venv/bin/python bench/evaluate_log.py

Runs `bot eval` twice: the engine as shipped against Rasa's ResponseSelector trained on the same KB,
and the engine against its Rasa-intent-only ablation. Reports go to docs/eval/ (linked from the README).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
BOT = str(Path(sys.executable).parent / "bot")
LOG = "tests/data/chat_log.jsonl"
RUNS = {
    "vs_response_selector": ("bench/configs/engine.yml", "bench/configs/response_selector.yml"),
    "vs_rasa_intent_only": ("bench/configs/engine.yml", "bench/configs/rasa_intent_only.yml"),
}
KEYS = ("intent_accuracy", "intent_macro_f1", "intent_weighted_f1", "hit@1", "hit@3", "mrr", "abstention_rate")


def main() -> None:
    table = {}
    for name, (a, b) in RUNS.items():
        out = PROJECT / "docs" / "eval" / name
        subprocess.run([BOT, "eval", LOG, "--out", str(out), "--compare", a, b], cwd=PROJECT, check=True)
        summary = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
        for config, metrics in summary["configs"].items():
            table[config] = {**{k: metrics[k] for k in KEYS}, "latency_ms_p50": metrics["latency_ms"]["p50"], "latency_ms_p95": metrics["latency_ms"]["p95"]}
    print("| config | " + " | ".join(KEYS) + " | p50 ms | p95 ms |")
    print("|---" * (len(KEYS) + 3) + "|")
    for config, row in table.items():
        print(f"| {config} | " + " | ".join(f"{row[k]:.3f}" for k in KEYS) + f" | {row['latency_ms_p50']:.1f} | {row['latency_ms_p95']:.1f} |")


if __name__ == "__main__":
    main()
