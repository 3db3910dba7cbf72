"""Scale: the engine on synthetic KBs of 100 to 1M entries (bench/synthetic_kb.py), one process per size.

    .venv/bin/python bench/scale.py                         # 100, 10k, 100k entries
    .venv/bin/python bench/scale.py --sizes 100 10000 100000 1000000

For each size: import into a real SQLite file, build the index (with a progress bar, chunk by chunk),
load it again as a server start would, then time `suggest` in process on the shipped chat log's and the
held-out paraphrases' buyer messages (encoder cache cleared before each call, as for a new message).
Where the size puts the index on HNSW, recall@10 is measured against exact search over the same
vectors. A real `bot serve` is started on the built index and timed until /api/health answers.
Each size runs in its own process, so peak RSS is that size's. Results: bench/results/scale.json;
bench/results.py turns them into bench/RESULTS.md.

At 1M entries (4M rows) embedding takes hours on 2 cores: run bench/vector_cache.py first (resumable),
and the build takes its vectors. `--backend onnx-int8` (2.4x faster to embed) is what was used there.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "bench"))
OUT = PROJECT / "bench" / "results" / "scale.json"
WORK = PROJECT / "bench" / "out" / "scale"
CACHE_DIR = PROJECT / "bench" / "out" / "vectors"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles(samples: list[float]) -> dict[str, float]:
    import numpy as np

    return {f"p{q}": round(float(np.percentile(samples, q)), 2) for q in (50, 95, 99)}


def queries() -> list[tuple[str, tuple[str, ...]]]:
    """(buyer message, gold KB entries) from the shipped chat log and the held-out paraphrases."""
    from ruamel.yaml import YAML

    found = []
    for line in (PROJECT / "tests/data/chat_log.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            found.append((item["text"], tuple(filter(None, str(item.get("reply_id") or "").split("|")))))
    for item in YAML(typ="safe", pure=True).load((PROJECT / "tests/data/paraphrases_test.yml").read_text(encoding="utf-8")):
        found.append((item["text"], tuple(item.get("replies") or ())))
    return found


def recall_at_10(index, vectors) -> float:  # type: ignore[no-untyped-def]
    """Share of the exact top-10 rows that the index's own search returns, over the query vectors.

    The exact top-10 is a brute-force scan of the graph's own vectors, chunk by chunk, so it needs no second
    copy of the vectors (4M rows are 8 GB).
    """
    import faiss
    import numpy as np

    dense = index.dense
    if not isinstance(dense, faiss.IndexHNSW):
        return 1.0
    best_scores = np.full((len(vectors), 10), -np.inf, dtype=np.float32)
    best_rows = np.zeros((len(vectors), 10), dtype=np.int64)
    for start in range(0, dense.ntotal, 100_000):
        ids = np.arange(start, min(start + 100_000, dense.ntotal), dtype=np.int64)
        scores = np.concatenate([best_scores, vectors @ dense.reconstruct_batch(ids).T], axis=1)
        rows = np.concatenate([best_rows, np.broadcast_to(ids, (len(vectors), len(ids)))], axis=1)
        top = np.argpartition(-scores, 9, axis=1)[:, :10]
        best_scores, best_rows = np.take_along_axis(scores, top, 1), np.take_along_axis(rows, top, 1)
    hits = 0
    for i, vector in enumerate(vectors):
        _, got = index.dense_search(vector, 10)
        hits += len(set(got[0]) & set(best_rows[i]))
    return hits / (10 * len(vectors))


def lexical_recall(index, texts: list[str]) -> float:  # type: ignore[no-untyped-def]
    """How many of the full BM25 scan's 10 best scores (> 0) the posting-list candidates (depth 64) match, rank by rank."""
    import numpy as np

    lexical = index.lexical
    matched = wanted = 0
    for text in texts:
        scores = lexical.scores(text)
        want = np.sort(scores)[::-1][:10]
        want = want[want > 0]
        got = np.sort(scores[lexical.top(text, 64)])[::-1][: len(want)]
        matched += int(np.sum(got >= want[: len(got)] - 1e-6))
        wanted += len(want)
    return matched / max(1, wanted)


def server_start(data_dir: Path) -> dict[str, float]:
    """Seconds from starting `bot serve` on this data dir (index built) to answering, and to the full pipeline."""
    from harness import serve

    with serve(data_dir, ready_timeout=900) as server:
        return {"server_answering_s": server.answering_s, "server_ready_s": server.ready_s}


def run_one(size: int) -> dict[str, object]:
    import numpy as np

    from bot.encoder import encoder_for
    from bot.index.storage import index_for
    from bot.intents import load_intents
    from bot.kb.files import read_kb
    from bot.kb.store import KBStore
    from bot.settings import load_settings
    from bot.suggest import Engine

    from synthetic_kb import synthetic_kb

    data_dir = WORK / str(size)
    settings = load_settings(PROJECT, data_dir=data_dir)
    store = KBStore(settings.db_url)
    result: dict[str, object] = {"size": size}
    if store.count() != size:
        content = synthetic_kb(read_kb(PROJECT / "kb", load_intents(PROJECT)), size)
        started = time.perf_counter()
        store.replace_all(content)
        result["import_s"] = round(time.perf_counter() - started, 1)
    kb = store.approved()
    encoder = encoder_for(settings)
    result["vectors_reused"] = settings.index_dir.is_dir() and any(settings.index_dir.iterdir())  # an earlier build's
    reuse = None
    if (CACHE_DIR / f"{size}-{encoder.fingerprint}.f32").exists():  # embedded ahead by bench/vector_cache.py
        from vector_cache import cache_for

        reuse, _ = cache_for(size, settings.encoder_backend)
        result["vectors_reused"] = f"bench/vector_cache.py ({reuse.done} of {len(reuse.texts)} rows)"
    started = time.perf_counter()
    index, built = index_for(settings, kb, encoder, progress=True, reuse=reuse)
    result["build_s" if built else "open_s"] = round(time.perf_counter() - started, 1)
    result.update(rows=len(index.rows), dense=index.dense_kind, encoder=f"{settings.encoder} ({settings.encoder_backend})")
    del index, kb, reuse  # the engine below loads the saved index, as a server does: never two copies at once
    gc.collect()
    started = time.perf_counter()
    engine = Engine.from_settings(settings)  # loads the model and the saved index, as a server start does
    result["engine_load_s"] = round(time.perf_counter() - started, 1)
    items = queries()
    for text, _ in items[:20]:
        engine.suggest(text)  # warm up
    suggest_ms, search_ms, hit1, hit3, with_gold = [], [], 0, 0, 0
    for text, gold in items:
        engine.encoder.clear_cache()
        started = time.perf_counter()
        result_ = engine.suggest(text)
        suggest_ms.append((time.perf_counter() - started) * 1000)
        vector = engine.encoder.embed(text)
        started = time.perf_counter()
        engine.index.search(text, 10, query_vector=vector)
        search_ms.append((time.perf_counter() - started) * 1000)
        if gold:
            got = [s.id for s in result_.suggestions]
            with_gold += 1
            hit1 += bool(got[:1] and got[0] in gold)
            hit3 += any(g in gold for g in got[:3])
    vectors = np.stack([engine.encoder.embed(text) for text, _ in items])
    result.update(
        queries=len(items),
        suggest_ms=percentiles(suggest_ms),
        search_ms=percentiles(search_ms),
        **{"hit@1": round(hit1 / with_gold, 3), "hit@3": round(hit3 / with_gold, 3)},
        recall_at_10=round(recall_at_10(engine.index, vectors), 4),
        lexical_recall_at_10=round(lexical_recall(engine.index, [text for text, _ in items]), 4),
        peak_rss_mb=round(peak_rss_mb()),
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 10_000, 100_000])
    parser.add_argument("--no-serve", action="store_true", help="skip timing a real server start")
    parser.add_argument("--backend", help="encoder backend for these sizes (default: bot.yml's)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print("RESULT " + json.dumps(run_one(args.one)), flush=True)
        return
    if args.backend:  # for the measuring process and the server alike
        os.environ["BOT_ENCODER_BACKEND"] = args.backend
    results = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {}
    for size in args.sizes:
        process = subprocess.run([sys.executable, __file__, "--one", str(size)], stdout=subprocess.PIPE, text=True, check=True)
        line = next(x for x in process.stdout.splitlines() if x.startswith("RESULT "))
        measured = json.loads(line[len("RESULT "):])
        earlier = results.get(str(size), {})
        if "open_s" in measured and "build_s" in earlier:  # opened, not built: keep the figures of the build it opened
            measured.update(import_s=earlier.get("import_s"), build_s=earlier["build_s"], built_in_earlier_run=True)
        results[str(size)] = measured
        if not args.no_serve:  # after the measuring process has exited, so the server has the memory to itself
            results[str(size)].update(server_start(WORK / str(size)))
        print(json.dumps(results[str(size)], ensure_ascii=False), flush=True)
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
