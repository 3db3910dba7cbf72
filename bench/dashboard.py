"""The dashboard at scale: 1,000,000 generated feedback rows over 90 days and 50 agents on the seed KB, then the
page's data (`GET /api/dashboard` on a real `bot serve`) and `bot report` timed over 7, 30 and 90 days.

    .venv/bin/python bench/dashboard.py                       # SQLite, 1M rows (about 4 minutes)
    .venv/bin/python bench/dashboard.py --rows 200000 --db postgresql+psycopg2://...   # another database
    .venv/bin/python bench/dashboard.py --screenshot docs/dashboard.png                # and the README's picture

The rows follow what bot/server/app.py writes per buyer message (shown x3 or abstained, then picked / edited / ignored
/ sent); a few entries are rewritten heavily (rewrite candidates) and a few are shown but never taken (dead weight).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import BIN, PROJECT, chromium, serve  # noqa: E402

sys.path.insert(0, str(PROJECT))
CHUNK = 20_000
REWRITE_VERSIONS = ("亲，这款今天下单明天发，{n}号前能到哦", "您好~ 这个我帮您备注加急，{n}号前发出", "亲亲，库存充足的，拍下后尽快给您安排")
BUYER_TEXTS = ("这个能用多久", "有没有大一号的", "发票抬头能改吗", "可以送到公司吗", "保修几年", "能开专票吗", "支持货到付款吗", "有赠品吗")


def _rows_per_message() -> float:
    return 6.4  # shown x3, about 0.95 x (picked, sometimes edited, 2 ignored, sent), or abstained + sent: a little under


def generate(db_url: str, rows: int, days: int, agents: int, seed: int = 7) -> dict[str, Any]:
    """Write about `rows` feedback rows (and their conversations and messages) spread over the last `days` days."""
    import sqlalchemy as sa

    from bot.db import connect, conversations_table, feedback_table, messages_table, now
    from bot.kb.store import KBStore
    from bot.shops import DEFAULT_SHOP

    rng = random.Random(seed)
    kb = KBStore(db_url).approved()
    by_intent: dict[str, list[str]] = {}
    for entry in kb.entries:
        by_intent.setdefault(entry.intent, []).append(entry.id)
    intents = sorted(i for i, ids in by_intent.items() if len(ids) >= 3)
    weights = [1.0 / (rank + 1) for rank in range(len(intents))]
    everything = sorted(e.id for e in kb.entries)
    rewrite = set(rng.sample(everything, 4))
    dead = set(rng.sample([e for e in everything if e not in rewrite], 4))
    names = [f"agent{i:02d}" for i in range(1, agents + 1)]
    engine = connect(db_url)
    end = now()
    messages = int(rows / _rows_per_message()) + 1
    feedback: list[dict[str, Any]] = []
    written = 0
    started = time.perf_counter()
    with engine.begin() as conn:
        next_id = (conn.execute(sa.select(sa.func.max(messages_table.c.id))).scalar() or 0) + 1
    conversation, in_conversation = None, 0

    def flush(conversations: list[dict[str, Any]], texts: list[dict[str, Any]]) -> None:
        nonlocal feedback, written
        with engine.begin() as conn:
            if conversations:
                conn.execute(conversations_table.insert(), conversations)
            if texts:
                conn.execute(messages_table.insert(), texts)
            if feedback:
                conn.execute(feedback_table.insert(), feedback)
        written += len(feedback)
        feedback = []

    conversations: list[dict[str, Any]] = []
    texts: list[dict[str, Any]] = []
    for n in range(messages):
        at = end - timedelta(days=rng.random() * days)
        if conversation is None or in_conversation >= rng.randint(1, 5):
            conversation, in_conversation = f"bench-{n}", 0
            conversations.append({"id": conversation, "shop": DEFAULT_SHOP, "created_at": at, "updated_at": at})
        in_conversation += 1
        message_id = next_id + n
        intent = rng.choices(intents, weights)[0]
        texts.append({"id": message_id, "conversation_id": conversation, "role": "customer", "text": rng.choice(BUYER_TEXTS), "created_at": at})
        base = {"conversation_id": conversation, "message_id": message_id, "created_at": at, "intent": intent,
                "agent": None, "entry_id": None, "rank": None, "score": None, "final_text": None, "edit_distance": None,
                "suggested_chars": None, "latency_ms": None, "wait_ms": None}
        latency = round(rng.lognormvariate(2.7, 0.35), 2)  # about 15 ms
        agent = rng.choice(names)
        wait = int(rng.lognormvariate(9.9, 0.8) * (1 + names.index(agent) / agents))  # about 20 s, slower agents further down
        replied_at = at + timedelta(milliseconds=wait)
        answered = rng.random() < 0.95
        if rng.random() < 0.12:
            feedback.append({**base, "event": "abstained", "latency_ms": latency})
            if answered:
                feedback.append({**base, "event": "sent", "agent": agent, "wait_ms": wait, "final_text": "亲，我帮您查一下", "created_at": replied_at})
        else:
            own = by_intent[intent]
            shown = rng.sample(own, 3)
            shown.sort(key=lambda e: e in dead)  # dead weight is shown lower, never first
            for rank, entry_id in enumerate(shown, 1):
                feedback.append({**base, "event": "shown", "entry_id": entry_id, "rank": rank, "score": round(0.9 - rank * 0.07, 3),
                                 "latency_ms": latency if rank == 1 else None})
            if answered:
                sent = {**base, "agent": agent, "created_at": replied_at}
                taken_rank = rng.choices([1, 2, 3, None], [0.62, 0.14, 0.06, 0.18])[0]
                taken = shown[taken_rank - 1] if taken_rank else None
                if taken in dead:
                    taken, taken_rank = None, None
                if taken:
                    feedback.append({**sent, "event": "picked", "entry_id": taken, "rank": taken_rank})
                    heavy = taken in rewrite
                    if rng.random() < (0.9 if heavy else 0.3):
                        length = rng.randint(30, 80)
                        share = rng.uniform(0.4, 0.9) if heavy else rng.uniform(0.02, 0.25)
                        final = rng.choice(REWRITE_VERSIONS).format(n=rng.randint(3, 5)) if heavy else "亲，已为您改好~"
                        feedback.append({**sent, "event": "edited", "entry_id": taken, "rank": taken_rank, "final_text": final,
                                         "edit_distance": int(length * share), "suggested_chars": length})
                for rank, entry_id in enumerate(shown, 1):
                    if entry_id != taken:
                        feedback.append({**sent, "event": "ignored", "entry_id": entry_id, "rank": rank})
                feedback.append({**sent, "event": "sent", "entry_id": taken, "rank": taken_rank, "wait_ms": wait, "final_text": "亲~"})
        if len(feedback) >= CHUNK:
            flush(conversations, texts)
            conversations, texts = [], []
    flush(conversations, texts)
    engine.dispose()
    return {"rows": written, "messages": messages, "seconds": round(time.perf_counter() - started, 1),
            "rewrite": sorted(rewrite), "dead": sorted(dead)}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered), math.ceil(len(ordered) * share)) - 1]


def time_api(server: Any, repeat: int) -> Iterator[tuple[str, float, float]]:
    """The page's data (`GET /api/dashboard`, as an admin: per-agent figures too) over 7, 30 and 90 days."""
    for span in ("7d", "30d", "90d"):
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            server.get(f"/api/dashboard?since={span}")
            times.append(time.perf_counter() - started)
        yield span, statistics.median(times), _percentile(times, 0.95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--db", help="a database URL (default: SQLite in a temporary data dir)")
    parser.add_argument("--screenshot", type=Path, help="save a screenshot of /dashboard (last 30 days) here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        env = {**os.environ, "BOT_DATA_DIR": tmp, "HF_HUB_OFFLINE": "1", **({"BOT_DB": args.db} if args.db else {})}
        os.environ.update(env)
        subprocess.run([str(BIN / "bot"), "kb", "import"], cwd=PROJECT, env=env, check=True, capture_output=True)
        from bot.settings import load_settings

        db_url = load_settings(PROJECT, data_dir=data_dir).db_url
        made = generate(db_url, args.rows, args.days, args.agents)
        print(f"generated {made['rows']:,} feedback rows for {made['messages']:,} buyer messages in {made['seconds']} s")
        print(f"  rewrite candidates planted: {', '.join(made['rewrite'])}; dead weight planted: {', '.join(made['dead'])}")

        from bot.dashboard import dashboard, period_of
        from bot.db import connect
        from bot.order import SHOP_TIME

        figures = dashboard(connect(db_url), period_of("90d"), True)
        found_rewrite = {r["entry_id"] for r in figures["rewrite_candidates"]}
        found_dead = {r["entry_id"] for r in figures["dead_weight"]}
        print(f"  found: rewrite {sorted(found_rewrite & set(made['rewrite']))} of {len(made['rewrite'])}, "
              f"dead weight {sorted(found_dead & set(made['dead']))} of {len(made['dead'])}")

        with serve(data_dir) as server:
            print(f"\n| `GET /api/dashboard` ({made['rows']:,} rows, {args.repeat} calls each) | rows in range | p50 | p95 |")
            print("|---|---|---|---|")
            for span, p50, p95 in time_api(server, args.repeat):
                in_range = server.get(f"/api/dashboard?since={span}")["coverage"]["messages"]
                print(f"| since={span} | ~{int(in_range * _rows_per_message()):,} | {p50 * 1000:.0f} ms | {p95 * 1000:.0f} ms |")
            if args.screenshot:
                with chromium() as browser:
                    page = browser.new_page(viewport={"width": 1400, "height": 1250}, device_scale_factor=1)
                    server.login(page)
                    until = (datetime.now(SHOP_TIME)).date()
                    since = until - timedelta(days=29)
                    page.goto(f"{server.base}/dashboard?since={since}&until={until}")
                    page.wait_for_selector(f"body[data-loaded^='{since}/{until}/']")
                    page.wait_for_timeout(300)
                    page.screenshot(path=str(args.screenshot))  # the top: the figures and what to fix first
                    print(f"\nscreenshot: {args.screenshot}")
        for span in ("7d", "90d"):
            started = time.perf_counter()
            subprocess.run([str(BIN / "bot"), "report", "--since", span, "--out", str(data_dir / f"report-{span}")],
                           cwd=PROJECT, env=env, check=True, capture_output=True)
            print(f"`bot report --since {span}`: {time.perf_counter() - started:.1f} s (a process: imports included)")


if __name__ == "__main__":
    main()
