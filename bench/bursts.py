"""Bursts through a real server: pending coverage as the console gets it, and what a burst costs per message.

    .venv/bin/python bench/bursts.py [--log tests/data/bursts.jsonl] [--model models/x.tar.gz] [--repeat 3]

Every conversation of the labelled burst log is posted to a real `bot serve` through the JSON API, one buyer message
after another; where the log says the agent answered, the combined draft of the last response is sent back as the
reply (with its parts), as an agent pressing 0 would. Reported:

- pending coverage from the server's own responses (it must equal `bot eval`'s, which runs the same code in process);
- `POST .../messages` latency for a conversation's first message (nothing pending before it) and for the third or later
  message of a burst (two or more questions already pending, each re-read in its context unless remembered), as a
  ratio to the first-message figure measured in the same run: the machine is noisy, the ratio less so.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import PROJECT, running_server  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log", type=Path, default=PROJECT / "tests/data/bursts.jsonl")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3, help="post the whole log this many times (fresh conversation ids)")
    args = parser.parse_args()
    from bot.logs import read_log

    items = read_log(args.log).items
    conversations: dict[str, list] = {}
    for item in items:
        conversations.setdefault(item.conversation_id, []).append(item)
    first_ms: list[float] = []
    burst_ms: list[float] = []
    labelled = in_draft = 0
    with running_server(args.model) as server:
        for run in range(args.repeat):
            for name, turns in conversations.items():
                conversation_id = f"{name}-run{run}"
                waiting: dict[int, tuple[str, ...]] = {}
                for item in sorted(turns, key=lambda i: i.turn or 0):
                    started = time.perf_counter()
                    status, body = server.api(f"/api/conversations/{conversation_id}/messages", {"text": item.text})
                    elapsed = (time.perf_counter() - started) * 1000
                    assert status == 201, body
                    (first_ms if not waiting else burst_ms if len(waiting) >= 2 else []).append(elapsed)
                    waiting[body["message"]["id"]] = item.reply_ids
                    if not item.replied:
                        continue
                    combined = body["combined"]
                    if run == 0 and len(waiting) >= 2:
                        drafted = {p["entry_id"] for p in combined["parts"]} if combined else set()
                        for acceptable in waiting.values():
                            if acceptable:
                                labelled += 1
                                in_draft += bool(drafted & set(acceptable))
                    if combined:
                        parts = [{"message_id": m, "entry_id": p["entry_id"]} for p in combined["parts"] for m in p["message_ids"]]
                        status, _ = server.api(f"/api/conversations/{conversation_id}/replies",
                                               {"text": combined["text"], "parts": parts, "suggested_text": combined["text"], "answers": list(waiting)})
                        assert status == 201
                    waiting = {}
    first_p50, first_p95 = statistics.median(first_ms), percentile(first_ms, 95)
    burst_p50, burst_p95 = statistics.median(burst_ms), percentile(burst_ms, 95)
    result = {
        "pending_coverage": round(in_draft / labelled, 4) if labelled else None,
        "labelled_messages": labelled,
        "first_message_ms": {"n": len(first_ms), "p50": round(first_p50, 1), "p95": round(first_p95, 1)},
        "third_or_later_in_burst_ms": {"n": len(burst_ms), "p50": round(burst_p50, 1), "p95": round(burst_p95, 1)},
        "ratio_p50": round(burst_p50 / first_p50, 2),
        "ratio_p95": round(burst_p95 / first_p95, 2),
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    print(f"\n| POST .../messages | n | p50 ms | p95 ms |\n|---|---|---|---|\n"
          f"| first message of a conversation | {len(first_ms)} | {first_p50:.0f} | {first_p95:.0f} |\n"
          f"| 3rd or later message of a burst | {len(burst_ms)} | {burst_p50:.0f} ({result['ratio_p50']}×) | {burst_p95:.0f} ({result['ratio_p95']}×) |\n"
          f"\npending coverage through the server: {result['pending_coverage']} of {labelled} labelled burst messages")


if __name__ == "__main__":
    main()
