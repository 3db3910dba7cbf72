"""Many shops on one deployment: N shops x M entries on PostgreSQL, two `bot serve` processes, a mixed load over many shops.

    .venv/bin/python bench/many_shops.py                                   # 1,000 shops x 1,000 entries (issue 21's scale)
    .venv/bin/python bench/many_shops.py --shops 200 --entries 1000 --seconds 30

Shops are generated from the seed KB's patterns (bench/synthetic_kb.py's products, variants and series): shop i sells
the seed's questions about its own series' products, with a profile of its own (name, free-shipping threshold,
courier); the seed KB is the common layer every shop inherits. Rows go into PostgreSQL in bulk (the store's own
import would take an hour at a million entries). Measured, in one run on this machine:

- in process, on the shops' real KBs: the Rasa parse alone and a warm `suggest` on the same messages (p50 / p95, and
  their ratio); a cold shop's first suggestion, its index built (re-using the vectors of the shops in memory) and
  loaded from disk (built before, dropped from memory);
- two `bot serve` processes on the database (one data dir, so they share the index files): time until each answers
  with the Rasa model loaded; an approval on one process live on the other (p95 over 20); throughput and latency of
  buyer messages over many shops with 8 and 32 clients (round robin over both processes, as a proxy does); the
  resident memory of each process afterwards (`index.memory_budget_mb` bounds the shops' indexes).

Writes bench/results/many_shops.json and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import PROJECT, serve  # noqa: E402

sys.path.insert(0, str(PROJECT))
OUT = PROJECT / "bench" / "results" / "many_shops.json"
THRESHOLDS = ("59", "79", "99", "129")
COURIERS = ("申通快递", "中通快递", "圆通快递", "顺丰速运")
CHUNK = 20_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))], 1) if ordered else float("nan")


def shop_name(i: int) -> str:
    return f"shop-{i:05d}"


def shop_entries(seed: Any, i: int, entries: int, series: int) -> list[Any]:
    """Shop i's own entries: the seed's questions about its series' products (shops of one series share texts)."""
    from bot.kb import Entry

    from synthetic_kb import FRAMES, PRODUCTS, SERIES, VARIANTS

    rng = random.Random(i % series)
    approved = [e for e in seed.approved() if e.questions]
    line = SERIES[1 + (i % series) % (len(SERIES) - 1)]
    made = []
    for n in range(entries):
        base = approved[n % len(approved)]
        product = PRODUCTS[(n // len(approved)) % len(PRODUCTS)]
        variant = VARIANTS[(n // (len(approved) * len(PRODUCTS))) % len(VARIANTS)]
        name = f"{line}{variant}{product}"
        questions = tuple(dict.fromkeys(rng.choice(FRAMES).format(p=name) + q for q in rng.sample(list(base.questions), min(3, len(base.questions)))))
        made.append(Entry(f"{base.intent}.p{n}", base.intent, "approved", base.tags, questions, f"【{name}】{base.answer}"))
    return made


def profile(seed: Any, i: int, series: int) -> dict[str, str]:
    variant = i // series
    return {**seed.shop, "shop_name": f"第{i}号店", "free_shipping_threshold": THRESHOLDS[variant % len(THRESHOLDS)],
            "courier": COURIERS[(variant // len(THRESHOLDS)) % len(COURIERS)]}


def generate(url: str, shops: int, entries: int, series: int) -> dict[str, Any]:
    """The seed KB as the common layer (through the store), and the shops' rows in bulk."""
    import sqlalchemy as sa

    from bot import shops as shop_registry
    from bot.db import (
        changes_table,
        entries_table,
        now,
        questions_table,
        revisions_table,
        shop_table,
        shops_table,
    )
    from bot.intents import load_intents
    from bot.kb.files import read_kb
    from bot.kb.store import KBStore

    started = time.perf_counter()
    seed = read_kb(PROJECT / "kb", load_intents(PROJECT))
    common = KBStore(url, shop_registry.COMMON)
    common.replace_all(seed, author="bench")
    stamp = now()
    rows: dict[str, list[dict[str, Any]]] = {"shops": [], "profile": [], "entries": [], "questions": [], "revisions": [], "changes": []}

    def flush(conn: Any, force: bool = False) -> None:
        if not force and max(len(batch) for batch in rows.values()) < CHUNK:
            return
        for key, table in (("shops", shops_table), ("profile", shop_table), ("entries", entries_table), ("questions", questions_table),
                           ("revisions", revisions_table), ("changes", changes_table)):  # parents before the rows that name them
            if rows[key]:
                conn.execute(table.insert(), rows[key])
                rows[key] = []

    with common.db.begin() as conn:
        for i in range(shops):
            name = shop_name(i)
            rows["shops"].append({"name": name, "created_at": stamp})
            rows["profile"] += [{"shop": name, "key": k, "position": p, "value": v} for p, (k, v) in enumerate(profile(seed, i, series).items())]
            for entry in shop_entries(seed, i, entries, series):
                tags = json.dumps(list(entry.tags), ensure_ascii=False)
                rows["entries"].append({"shop": name, "id": entry.id, "intent": entry.intent, "status": "approved", "tags": tags,
                                        "answer": entry.answer, "version": 1, "updated_at": stamp, "updated_by": "bench"})
                rows["questions"] += [{"shop": name, "entry_id": entry.id, "position": p, "text": q} for p, q in enumerate(entry.questions)]
                rows["revisions"].append({"shop": name, "entry_id": entry.id, "version": 1, "action": "import", "status": "approved",
                                          "intent": entry.intent, "tags": tags, "questions": json.dumps(list(entry.questions), ensure_ascii=False),
                                          "answer": entry.answer, "author": "bench", "created_at": stamp, "note": None})
            rows["changes"].append({"shop": name, "entry_id": None, "created_at": stamp})
            flush(conn)
        flush(conn, force=True)
    with common.db.connect() as conn:
        counted = conn.execute(sa.select(sa.func.count()).select_from(entries_table)).scalar_one()
    return {"shops": shops, "entries_per_shop": entries, "series": series, "entries_in_database": int(counted),
            "generate_s": round(time.perf_counter() - started, 1)}


def buyer_texts() -> list[str]:
    return [json.loads(line)["text"] for line in (PROJECT / "tests/data/chat_log.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


def in_process(url: str, data_dir: Path, shops: int, texts: list[str], warm: int, cold: int) -> dict[str, Any]:
    """Parse alone against warm suggest on the same messages; a cold shop's first suggestion, built and from disk."""
    from bot.settings import load_settings
    from bot.shop_engines import ShopEngines
    from bot.suggest import Engine

    os.environ["BOT_DB"] = url
    settings = load_settings(PROJECT, data_dir=data_dir)
    first = Engine.from_settings(settings)
    engines = ShopEngines(first)
    rng = random.Random(3)
    warm_shops = [shop_name(i) for i in rng.sample(range(shops), min(warm, shops))]
    for shop in warm_shops:  # warm: loaded, and each index's lazy parts made by a first message
        engines.get(shop).suggest(texts[0])
    classifier = first.classifier
    assert classifier is not None
    parse_ms, suggest_ms = [], []
    for n in range(600):
        text, shop = texts[n % len(texts)], warm_shops[n % len(warm_shops)]
        started = time.perf_counter()
        classifier.parse(text)
        parse_ms.append((time.perf_counter() - started) * 1000)
        engine = engines.get(shop)
        started = time.perf_counter()
        engine.suggest(text)
        suggest_ms.append((time.perf_counter() - started) * 1000)
    untouched = [shop_name(i) for i in range(shops) if shop_name(i) not in warm_shops]
    built_ms, loaded_ms = [], []
    for shop in rng.sample(untouched, min(cold, len(untouched))):
        started = time.perf_counter()
        engines.get(shop).suggest(texts[0])
        built_ms.append((time.perf_counter() - started) * 1000)
    again = ShopEngines(first)  # a process that has none of them in memory: their indexes are on disk now
    for shop in warm_shops[:cold]:
        started = time.perf_counter()
        again.get(shop).suggest(texts[0])
        loaded_ms.append((time.perf_counter() - started) * 1000)
    index_mb = [engines.get(s).index.memory_bytes / 2**20 for s in warm_shops[:5]]
    return {
        "parse_ms": {"p50": percentile(parse_ms, 50), "p95": percentile(parse_ms, 95)},
        "suggest_ms": {"p50": percentile(suggest_ms, 50), "p95": percentile(suggest_ms, 95)},
        "suggest_over_parse": {"p50": round(percentile(suggest_ms, 50) / percentile(parse_ms, 50), 2),
                               "p95": round(percentile(suggest_ms, 95) / percentile(parse_ms, 95), 2)},
        "cold_shop_built_ms": {"p50": percentile(built_ms, 50), "max": round(max(built_ms), 1), "n": len(built_ms)},
        "cold_shop_from_disk_ms": {"p50": percentile(loaded_ms, 50), "max": round(max(loaded_ms), 1), "n": len(loaded_ms)},
        "index_rows_per_shop": len(engines.get(warm_shops[0]).index.rows),
        "index_estimate_mb_per_shop": round(statistics.mean(index_mb), 1),
    }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 0)
    return float("nan")


def propagation(a: Any, b: Any, shop: str, rounds: int) -> dict[str, Any]:
    """An entry approved on process a (the editor API), suggested by process b: seconds until it is, p50 / p95."""
    waits = []
    for n in range(rounds):
        question = f"第{n}号赠品什么时候补发"
        status, body = a.api(f"/api/kb/entries?shop={shop}", {"intent": "price", "questions": [question], "answer": f"亲，第{n}号赠品明天补发哦~", "allow_similar": True})
        assert status == 201, body
        entry = body["entry"]
        started = time.perf_counter()
        status, body = a.api(f"/api/kb/entries/{urllib.parse.quote(entry['id'])}/approve?shop={shop}", {"base_version": entry["version"]})
        assert status == 200, body
        while time.perf_counter() - started < 30:
            found = b.api(f"/api/suggest?shop={shop}&q={urllib.parse.quote(question)}")[1]["suggestions"]
            if found and found[0]["id"] == entry["id"]:
                break
            time.sleep(0.02)
        waits.append(time.perf_counter() - started)
    return {"p50_s": round(percentile(waits, 50), 2), "p95_s": round(percentile(waits, 95), 2), "rounds": rounds}


async def load(bases: list[str], token: str, clients: int, seconds: float, shops: list[str], texts: list[str]) -> dict[str, Any]:
    """`clients` at once, each sending a buyer message and waiting for its suggestions, round robin over the processes;
    shops drawn with a long tail (a few busy, many quiet)."""
    import aiohttp

    latencies: list[float] = []
    failures: list[str] = []
    weights = [1 / (rank + 1) for rank in range(len(shops))]
    until = time.monotonic() + seconds

    async def client(n: int, http: Any) -> None:
        rng = random.Random(n)
        sent = 0
        while time.monotonic() < until:
            shop = rng.choices(shops, weights)[0]
            base = bases[(n + sent) % len(bases)]
            started = time.perf_counter()
            try:
                async with http.post(f"{base}/api/conversations/pf-{clients}-{n}-{sent}/messages", json={"text": rng.choice(texts), "shop": shop}) as response:
                    await response.read()
                    if response.status != 201:
                        failures.append(f"{response.status}")
            except Exception as exc:
                failures.append(type(exc).__name__)
            latencies.append((time.perf_counter() - started) * 1000)
            sent += 1

    started = time.monotonic()
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}, timeout=aiohttp.ClientTimeout(total=120),
                                     connector=aiohttp.TCPConnector(limit=clients + 2)) as http:
        await asyncio.gather(*(client(n, http) for n in range(clients)))
    elapsed = time.monotonic() - started
    return {"clients": clients, "messages_per_s": round(len(latencies) / elapsed, 1), "p50_ms": percentile(latencies, 50),
            "p95_ms": percentile(latencies, 95), "messages": len(latencies), "failures": len(failures)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shops", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=1000, help="entries of each shop's own (the common layer comes on top)")
    parser.add_argument("--series", type=int, default=10, help="product lines: shops of one line share their questions' texts")
    parser.add_argument("--load-shops", type=int, default=100, help="shops the mixed load writes to (most to a few, as in life)")
    parser.add_argument("--seconds", type=float, default=60, help="each load phase")
    args = parser.parse_args()

    import contextlib

    from bot.errors import BotError
    from bot.throwaway_pg import fresh_database, postgres_server

    result: dict[str, Any] = {"machine": f"{os.cpu_count()} cores"}
    texts = buyer_texts()
    with contextlib.ExitStack() as stack:
        try:
            admin = stack.enter_context(postgres_server())
        except BotError as exc:  # no server binaries here, or it did not start
            raise SystemExit(f"bench/many_shops.py needs PostgreSQL: {exc}")
        url = fresh_database(admin, "platform")
        result["data"] = generate(url, args.shops, args.entries, args.series)
        print(json.dumps(result["data"]), flush=True)
        with tempfile.TemporaryDirectory() as own_dir:
            result["in_process"] = in_process(url, Path(own_dir), args.shops, texts, warm=20, cold=10)
        print(json.dumps(result["in_process"]), flush=True)
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        os.environ["BOT_DB"] = url
        a = stack.enter_context(serve(data_dir))
        b = stack.enter_context(serve(data_dir))
        a.token = b.token  # the second start replaced the bench's token: both accept it
        result["ready_s"] = {"first": a.ready_s, "second": b.ready_s}
        load_shops = [shop_name(i) for i in random.Random(5).sample(range(args.shops), min(args.load_shops, args.shops))]
        api_shop = load_shops[0]
        for server in (a, b):  # the shop the approvals go to is warm on both
            server.get(f"/api/suggest?shop={api_shop}&q=%E5%8C%85%E9%82%AE%E5%90%97")
        result["approval_live_on_the_other"] = propagation(a, b, api_shop, rounds=20)
        started = time.perf_counter()
        for server in (a, b):  # every load shop once on each process first: the load phases measure warm shops
            for shop in load_shops:
                server.get(f"/api/suggest?shop={shop}&q=%E5%8C%85%E9%82%AE%E5%90%97", timeout=300)
        result["warm_up_s"] = round(time.perf_counter() - started, 1)
        result["load"] = [asyncio.run(load([a.base, b.base], b.token, clients, args.seconds, load_shops, texts)) for clients in (8, 32)]
        result["rss_mb"] = {"first": rss_mb(a.process.pid), "second": rss_mb(b.process.pid)}
        result["shops_loaded"] = {"first": a.get("/api/health")["shops_loaded"], "second": b.get("/api/health")["shops_loaded"]}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
