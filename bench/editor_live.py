"""Time from an editor's "approve" to agents being suggested the entry, on a real server holding a large KB.

    .venv/bin/python bench/editor_live.py [--size 10000] [--rounds 30] [--model models/x.tar.gz]

Builds a synthetic KB of --size entries from the seed KB's patterns (bench/synthetic_kb.py), starts
`bot serve` on it (the first start embeds every row), then, --rounds times: creates a new entry over
the editor API, starts the clock, approves it, and polls GET /api/suggest with its question until the
entry is among the suggestions. A baseline measured in the same run, one plain /api/suggest round
trip, is reported beside it: compare ratios across runs, these machines are noisy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bot.intents import load_intents  # noqa: E402
from bot.kb.files import read_kb, write_kb  # noqa: E402

from harness import PROJECT, running_server  # noqa: E402
from synthetic_kb import synthetic_kb  # noqa: E402

BANKS = ("招商", "建设", "工商", "农业", "中国", "交通", "浦发", "中信", "光大", "民生", "平安", "兴业", "广发", "华夏", "邮储")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=PROJECT / "bench" / "results" / "editor_live.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        kb_dir = Path(tmp) / "kb"
        write_kb(synthetic_kb(read_kb(PROJECT / "kb", load_intents(PROJECT)), args.size), kb_dir)
        started = time.monotonic()
        with running_server(args.model, kb=kb_dir, ready_timeout=3600) as server:
            startup = time.monotonic() - started
            status, health = server.api("/api/health")
            print(f"server ready in {startup:.0f} s with {health['entries']} live entries", flush=True)
            live, baseline = [], []
            for n in range(args.rounds):
                question = f"{BANKS[n % len(BANKS)]}银行信用卡能分{3 + n}期吗"
                query = "/api/suggest?q=" + urllib.parse.quote(question)
                t0 = time.perf_counter()
                server.api("/api/suggest?q=" + urllib.parse.quote("包邮吗"))
                baseline.append(time.perf_counter() - t0)
                status, created = server.api("/api/kb/entries", {
                    "id": f"price.card_installments_{n}", "intent": "price", "questions": [question],
                    "answer": f"亲,{BANKS[n % len(BANKS)]}银行信用卡支持分期哦,付款时选择分期即可~", "author": "bench", "allow_similar": True,
                })
                assert status == 201, created
                t0 = time.perf_counter()
                status, approved = server.api(f"/api/kb/entries/price.card_installments_{n}/approve", {"base_version": 1, "author": "bench"})
                assert status == 200, approved
                while True:
                    status, body = server.api(query)
                    if any(s["id"] == f"price.card_installments_{n}" for s in body["suggestions"]):
                        break
                    if time.perf_counter() - t0 > 30:
                        raise SystemExit(f"entry {n} not suggested after 30 s")
                live.append(time.perf_counter() - t0)
    result = {
        "kb_entries": health["entries"],
        "rounds": args.rounds,
        "server_ready_s": round(startup, 1),
        "approve_to_suggested_ms": {"p50": round(1000 * statistics.median(live), 1), "p95": round(1000 * percentile(live, 0.95), 1), "max": round(1000 * max(live), 1)},
        "baseline_suggest_roundtrip_ms": {"p50": round(1000 * statistics.median(baseline), 1), "p95": round(1000 * percentile(baseline, 0.95), 1)},
    }
    result["ratio_p50"] = round(result["approve_to_suggested_ms"]["p50"] / result["baseline_suggest_roundtrip_ms"]["p50"], 2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
