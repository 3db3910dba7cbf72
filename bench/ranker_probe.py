"""Would a learned ranker order the candidates better than the engine's blend? Cross-validated on real_dev's TUNING part.

    .venv/bin/python bench/ranker_probe.py

Runs this tree's engine (the Rasa model and fine-tuned encoder bench/real_quality.py caches) on the tuning part only,
keeps every candidate the engine ranks with its features (fused retrieval score, cosine, BM25, the blended intent's
confidence for the entry's intent, holding reply, matched an answer row, position among the hits, gap to the best),
and compares, in 5 folds over the messages (answerable ones, abstention left out), the order of the engine's score
with a logistic regression (scikit-learn, which Rasa brings) fitted on the other folds. Issue 17 asked to try it; this is how it was judged.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "bench"))

FEATURES = ("retrieval", "dense", "lexical", "intent_confidence", "top_intent", "holding", "answer_row", "position", "gap")
FOLDS = 5


def candidates() -> list[dict[str, Any]]:
    """Each answerable tuning line with the candidates the engine ranked for it (lines answered without ranking,
    such as closings, are left out)."""
    from real_quality import encoders_for, model_for

    from bot.kb.sync import import_kb
    from bot.ranking import CLARIFY_TAG, HOLDING_TAG
    from bot.settings import load_settings
    from bot.suggest import Engine

    import real_dev

    encoders = encoders_for(PROJECT)
    if encoders is not None:
        os.environ["BOT_MODELS_DIR"] = str(encoders)
    relabels = real_dev.read_relabels()
    lines = [line for part in real_dev.load().values() for line in real_dev.relabel([l for l in part if l.part == "tune"], relabels)]
    out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(PROJECT, data_dir=Path(tmp))
        import_kb(settings)
        engine = Engine.from_settings(settings, model_path=model_for(PROJECT))
        rank = engine._rank
        captured: list[dict[str, Any]] = []

        def recording_rank(hits, parse, k, holding=frozenset(), facts=None, nlu=None):  # type: ignore[no-untyped-def]
            kept = [h for h in hits if CLARIFY_TAG not in h.entry.tags]
            best = max((h.score for h in kept), default=0.0)
            for position, hit in enumerate(kept):
                floor = hit.entry.intent in holding and HOLDING_TAG in hit.entry.tags
                retrieval = max(hit.score, settings.suggest.holding_score) if floor else hit.score
                captured.append({"id": hit.entry.id, "retrieval": retrieval, "dense": hit.dense, "lexical": hit.lexical,
                                 "intent_confidence": parse.confidence_of(hit.entry.intent),
                                 "top_intent": float(parse.intent.name == hit.entry.intent),
                                 "holding": float(HOLDING_TAG in hit.entry.tags), "answer_row": float(hit.matched_kind == "answer"),
                                 "position": 1 / (1 + position), "gap": best - hit.score})
            return rank(hits, parse, k, holding, facts, nlu)

        engine._rank = recording_rank  # type: ignore[method-assign]
        for line in lines:
            if not line.answerable:
                continue
            captured.clear()
            engine.suggest(line.text, context=list(line.context) or None)
            if captured:
                out.append({"file": line.file, "acceptable": set(line.acceptable), "candidates": list(captured)})
        weight = settings.suggest.intent_weight
    for line in out:
        for c in line["candidates"]:
            c["engine"] = (1 - weight) * c["retrieval"] + weight * c["intent_confidence"]
    return out


def first_and_top3(lines: list[dict[str, Any]], score) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    first = top3 = 0
    for line in lines:
        ids: list[str] = []
        for c in sorted(line["candidates"], key=lambda c: -score(c)):
            if c["id"] not in ids:
                ids.append(c["id"])
        first += ids[0] in line["acceptable"]
        top3 += any(i in line["acceptable"] for i in ids[:3])
    return first / len(lines), top3 / len(lines)


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    lines = candidates()
    folds = np.array_split(np.random.default_rng(0).permutation(len(lines)), FOLDS)
    rows = {"engine's score": [], "logistic regression": []}
    for held in range(FOLDS):
        train = [lines[i] for j, fold in enumerate(folds) if j != held for i in fold]
        test = [lines[i] for i in folds[held]]
        x = np.array([[c[f] for f in FEATURES] for line in train for c in line["candidates"]])
        y = np.array([c["id"] in line["acceptable"] for line in train for c in line["candidates"]])
        model = LogisticRegression(max_iter=3000).fit(x, y)
        for file in ("messages.jsonl", "conversations.jsonl"):
            part = [line for line in test if line["file"] == file]
            rows["engine's score"].append((file, *first_and_top3(part, lambda c: c["engine"])))
            rows["logistic regression"].append(
                (file, *first_and_top3(part, lambda c: model.predict_proba(np.array([[c[f] for f in FEATURES]]))[0, 1])))
    print(f"tuning part, {FOLDS}-fold, answerable lines the engine ranked, abstention left out: acceptable first / top 3")
    for name, results in rows.items():
        for file in ("messages.jsonl", "conversations.jsonl"):
            mine = [r for r in results if r[0] == file]
            print(f"  {name:20s} {file:20s} {np.mean([r[1] for r in mine]):.3f} / {np.mean([r[2] for r in mine]):.3f}")


if __name__ == "__main__":
    main()
