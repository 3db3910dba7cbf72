"""Side by side on one machine: our suggest in process and over HTTP, Rasa's ResponseSelector, and BM25 alone.

    .venv/bin/python bench/compare.py                    # the seed KB
    .venv/bin/python bench/compare.py --size 10000       # a synthetic KB (bench/synthetic_kb.py); RS is skipped
    .venv/bin/python bench/compare.py --size 1000 --systems response_selector   # RS at a size it trains in

Each system runs in its own process (its peak RSS is its own; for HTTP, the server's). For each:
build/train time from scratch, latency p50/p95/p99 over the buyer messages of the shipped chat log and
the held-out paraphrases (one client, our encoder cache cleared before each call, as for a new message),
throughput and p95 with 1, 8 and 32 concurrent clients (threads, a fixed number of requests), and
intent accuracy, hit@1 and hit@3 on the shipped labelled chat log (message alone, the same input
for every system). Results: bench/results/compare-<size>.json; bench/results.py writes RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("HF_HUB_OFFLINE", "1")
PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "bench"))
RESULTS = PROJECT / "bench" / "results"
WORK = PROJECT / "bench" / "out" / "compare"
SYSTEMS = ("engine", "http", "response_selector", "bm25")
CLIENTS = (1, 8, 32)

from scale import peak_rss_mb, percentiles, queries  # noqa: E402


def prepare(size: int | None) -> Any:
    """Settings on a data dir holding the seed KB (size None) or a synthetic KB of `size` entries."""
    from bot.intents import load_intents
    from bot.kb.files import read_kb
    from bot.kb.store import KBStore
    from bot.settings import load_settings

    data_dir = WORK / (str(size) if size else "seed")
    settings = load_settings(PROJECT, data_dir=data_dir)
    store = KBStore(settings.db_url)
    seed = read_kb(PROJECT / "kb", load_intents(PROJECT))
    if size:
        from synthetic_kb import synthetic_kb

        content = synthetic_kb(seed, size)
    else:
        content = seed
    if store.count() != len(content.entries):
        store.replace_all(content)
    return settings


def quality(suggest: Callable[[str], Any]) -> dict[str, float]:
    """Intent accuracy, hit@1 and hit@3 on the shipped chat log, each message alone."""
    from bot.evaluate import metrics, run
    from bot.logs import read_log

    class Alone:
        def suggest(self, text: str, context: Any = None, k: int = 3) -> Any:
            return suggest(text)

    found = metrics(run(Alone(), read_log(PROJECT / "tests/data/chat_log.jsonl").items))
    return {key: round(found[key], 3) for key in ("intent_accuracy", "hit@1", "hit@3")}


def timings(suggest: Callable[[str], Any], before_each: Callable[[], None] = lambda: None) -> dict[str, Any]:
    texts = [text for text, _ in queries()]
    for text in texts[:20]:
        suggest(text + "!!")  # warm up on texts the timed passes do not send
    samples = []
    for text in texts + [t + "?" for t in texts]:  # never the same text twice: a server's cache cannot help
        before_each()
        started = time.perf_counter()
        suggest(text)
        samples.append((time.perf_counter() - started) * 1000)
    out: dict[str, Any] = {"latency_ms": percentiles(samples), "n": len(samples)}
    for clients in CLIENTS:
        total = max(200, 16 * clients)
        waits: list[float] = []
        lock = threading.Lock()

        def one(i: int) -> None:
            started = time.perf_counter()
            suggest(f"{texts[i % len(texts)]} {clients}.{i}")  # new texts: nothing cached
            with lock:
                waits.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(one, range(total)))
        out[f"clients_{clients}"] = {"per_s": round(total / (time.perf_counter() - started), 1), **percentiles(waits)}
    return out


def run_engine(settings: Any) -> dict[str, Any]:
    from bot.encoder import encoder_for
    from bot.index.storage import index_for
    from bot.kb.store import KBStore
    from bot.suggest import Engine

    shutil.rmtree(settings.index_dir, ignore_errors=True)
    started = time.perf_counter()
    index_for(settings, KBStore(settings.db_url).approved(), encoder_for(settings), progress=True)
    build = time.perf_counter() - started
    engine = Engine.from_settings(settings)
    return {"build_s": round(build, 1), **timings(engine.suggest, engine.encoder.clear_cache), **quality(engine.suggest)}


def run_http(settings: Any) -> dict[str, Any]:
    from harness import serve

    with serve(settings.data_dir, ready_timeout=900) as server:

        def suggest(text: str) -> Any:
            return _Remote(server.get(f"/api/suggest?q={urllib.parse.quote(text)}"))

        result = {"server_answering_s": server.answering_s, "server_ready_s": server.ready_s, **timings(suggest), **quality(suggest)}
        status = Path(f"/proc/{server.process.pid}/status").read_text()
        result["server_peak_rss_mb"] = round(int(next(x for x in status.splitlines() if x.startswith("VmHWM")).split()[1]) / 1024)
        return result


class _Remote:
    """The JSON of /api/suggest, read like a Suggestion by bot.evaluate."""

    def __init__(self, data: dict[str, Any]) -> None:
        from bot.nlu import IntentScore

        self.intent = IntentScore(data["intent"]["name"], float(data["intent"]["confidence"]))
        self.abstained = bool(data["abstained"])
        self.suggestions = [type("R", (), {"id": s["id"]})() for s in data["suggestions"]]


def run_response_selector(settings: Any) -> dict[str, Any]:
    from bot import response_selector
    from bot.kb.store import KBStore

    kb = KBStore(settings.db_url).load()
    work = settings.data_dir / "response_selector"
    shutil.rmtree(work, ignore_errors=True)  # train from scratch: the time is part of the comparison,
    os.environ["RASA_CACHE_DIRECTORY"] = str(work / "rasa-cache")  # and Rasa's training cache must not shortcut it
    started = time.perf_counter()
    archive = response_selector.train(kb, settings.project_dir / "data" / "dict", work)
    train = time.perf_counter() - started
    engine = response_selector.ResponseSelectorEngine(archive, kb)
    return {"build_s": round(train, 1), **quality(engine.suggest), **timings(engine.suggest)}


def run_bm25(settings: Any) -> dict[str, Any]:
    from bot.bm25_baseline import LexicalEngine
    from bot.kb.store import KBStore

    kb = KBStore(settings.db_url).load()
    started = time.perf_counter()
    engine = LexicalEngine(kb, answer_weight=settings.index.answer_weight)
    build = time.perf_counter() - started
    return {"build_s": round(build, 2), **quality(engine.suggest), **timings(engine.suggest)}


def run_one(system: str, size: int | None) -> dict[str, Any]:
    settings = prepare(size)
    runner = {"engine": run_engine, "http": run_http, "response_selector": run_response_selector, "bm25": run_bm25}[system]
    result = runner(settings)
    result["peak_rss_mb"] = round(peak_rss_mb())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=None, help="synthetic KB entries (default: the seed KB)")
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=None)
    parser.add_argument("--one", choices=SYSTEMS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print("RESULT " + json.dumps(run_one(args.one, args.size)), flush=True)
        return
    systems = args.systems or (SYSTEMS if not args.size else ("engine", "http", "bm25"))
    out = RESULTS / f"compare-{args.size or 'seed'}.json"
    results = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    prepare(args.size)
    for system in systems:
        print(f"== {system} ({args.size or 'seed'} KB)", flush=True)
        command = [sys.executable, __file__, "--one", system] + (["--size", str(args.size)] if args.size else [])
        process = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
        line = next(x for x in process.stdout.splitlines() if x.startswith("RESULT "))
        results[system] = json.loads(line[len("RESULT "):])
        print(json.dumps(results[system]), flush=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
