"""Do hostile requests stall the server? `/api/health` and `/api/suggest` latency, idle and under the slowest requests.

    .venv/bin/python bench/hostile.py                  # --model PATH (default: the newest in models/), --seconds 30

Starts a real `bot serve` on the seed KB, measures health and suggestion round trips alone, then again while other
clients send the heaviest requests that are accepted (4,000-character replies against 4,000-character suggestions),
ones that are refused (a 5,000-digit integer, a 20,000-character suggestion), wrong passwords from many addresses,
and the traffic page (grouping up to 2,000 messages; the server keeps their vectors, so after the first request it
encodes only new ones). Reports p50/p95 and the hostile/idle ratio of each: a stalled
event loop shows as a ratio in the hundreds, not in ones.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import requests

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "bench"))

from harness import running_server  # noqa: E402


def _timed(call: Callable[[], requests.Response], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        assert call().status_code == 200
        out.append((time.perf_counter() - start) * 1000)
    return out


def _pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--seconds", type=float, default=30, help="how long the hostile clients run")
    parser.add_argument("--probes", type=int, default=60, help="health and suggest round trips per phase")
    args = parser.parse_args()
    with running_server(args.model) as server:
        base, headers = server.base, {"Authorization": f"Bearer {server.token}"}
        status = requests.post(base + "/api/conversations/hostile-1/messages", json={"text": "包邮吗"}, headers=headers, timeout=60)
        message_id = status.json()["message"]["id"]

        def health() -> requests.Response:
            return requests.get(base + "/api/health", timeout=120)

        def suggest() -> requests.Response:
            return requests.get(base + "/api/suggest", params={"q": "今天下单什么时候到"}, headers=headers, timeout=120)

        idle = {"health": _timed(health, args.probes), "suggest": _timed(suggest, args.probes)}
        stop = threading.Event()
        sent = {"replies": 0, "refused": 0, "logins": 0, "clusters": 0}

        def heavy_replies() -> None:
            body = {"text": "好" * 3999 + "的", "suggested_text": "的" + "好" * 3999, "entry_id": "shipping_fee.free_threshold", "rank": 1, "message_id": message_id}
            while not stop.is_set():
                requests.post(base + "/api/conversations/hostile-1/replies", json=body, headers=headers, timeout=300)
                sent["replies"] += 1

        def refused() -> None:
            big = b'{"conversation_id": "hostile-1", "event": "shown", "message_id": ' + b"9" * 5000 + b"}"
            over = json.dumps({"text": "好的", "suggested_text": "a" * 20_000, "message_id": message_id})
            while not stop.is_set():
                requests.post(base + "/api/feedback", data=big, headers={**headers, "Content-Type": "application/json"}, timeout=300)
                requests.post(base + "/api/conversations/hostile-1/replies", data=over, headers={**headers, "Content-Type": "application/json"}, timeout=300)
                sent["refused"] += 2

        def wrong_logins(worker: int) -> None:
            i = 0
            while not stop.is_set():
                session = requests.Session()
                session.headers["X-Forwarded-For"] = f"198.51.{worker}.{i % 250}"
                form = session.get(base + "/login", timeout=300).text
                csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
                session.post(base + "/login", data={"name": f"guess{i}", "password": "wrong-password", "csrf": csrf}, allow_redirects=False, timeout=300)
                sent["logins"] += 1
                i += 1

        def clusters() -> None:
            while not stop.is_set():
                requests.get(base + "/api/traffic/clusters", headers=headers, timeout=300)
                sent["clusters"] += 1

        workers = [heavy_replies] * 4 + [refused] * 2 + [lambda w=w: wrong_logins(w) for w in range(2)] + [clusters]
        threads = [threading.Thread(target=work, daemon=True) for work in workers]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        hostile = {"health": _timed(health, args.probes), "suggest": _timed(suggest, args.probes)}
        time.sleep(max(0.0, args.seconds - 1.0))
        stop.set()
        for thread in threads:
            thread.join(timeout=300)
    print(f"hostile clients sent: {sent}")
    print("| request | idle p50 / p95 ms | under hostile requests p50 / p95 ms | ratio p95 |")
    print("|---|---|---|---|")
    for name in ("health", "suggest"):
        a, b = idle[name], hostile[name]
        print(f"| {name} | {_pct(a, 50):.1f} / {_pct(a, 95):.1f} | {_pct(b, 50):.1f} / {_pct(b, 95):.1f} | {_pct(b, 95) / _pct(a, 95):.1f}× |")


if __name__ == "__main__":
    main()
