"""Would a learned ranker order the candidates better than the engine's blend? Fitted on real_dev's TUNING part.

    .venv/bin/python bench/ranker_probe.py [--seeds 42,43,44] [--report]

Runs this tree's engine (the Rasa model and fine-tuned encoder bench/real_quality.py caches, one encoder per
fine-tuning seed) on real_dev (original labels) and keeps every candidate the engine ranks, with its features: the
engine's score, the fused retrieval score, cosine, BM25, the blended intent's and the Rasa model's confidence in the
entry's intent, whether either reads that intent first, holding reply, position among the hits, gap to the best hit.
Two learned orders are compared with the engine's, each only re-ordering the candidates (a line the engine abstains
on stays abstained; one answered without ranking, such as a closing, keeps its replies), so acceptable first / top 3
count as in bench/real_quality.py:
- a logistic regression (scikit-learn, which Rasa brings) on each candidate: is it acceptable?
- a conditional logit (a softmax over one line's candidates, L2-penalised, scipy's L-BFGS): the likelihood that an
  acceptable candidate is chosen, as a learning-to-rank model would fit it.
By default, 5 folds over the tuning part's lines (both files). With --report, fitted on the whole tuning part and
read on the report part once. Issue 17 asked to try it; this is how it was judged (docs/real_buyers.md).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "bench"))

FEATURES = ("engine", "retrieval", "dense", "lexical", "intent_confidence", "rasa_confidence", "top_intent", "rasa_top",
            "holding", "gap", "log_position")
FOLDS = 5
PENALTY = 0.1  # the conditional logit's L2 penalty (on standardised features): 0.1 to 100 gave alike figures in 5 folds
FILES = ("messages.jsonl", "conversations.jsonl")

Ranked = dict[str, Any]  # dev (the real_dev Line), abstained, ids (as offered), candidates (features per ranked entry)


def candidates(seed: int | None, data_dir: Path | None) -> list[Ranked]:
    """Every dev line with the engine's outcome and, when it ranked candidates, each one's features."""
    from real_quality import encoders_for, model_for

    from bot import ranking
    from bot.kb.sync import import_kb
    from bot.ranking import CLARIFY_TAG, HOLDING_TAG
    from bot.settings import load_settings
    from bot.suggest import Engine

    import real_dev

    encoders = encoders_for(PROJECT, [f"finetune.seed={seed}"] if seed is not None else [])
    if encoders is not None:
        os.environ["BOT_MODELS_DIR"] = str(encoders)
    lines = [line for part in real_dev.load(data_dir or real_dev.DEFAULT_DIR).values() for line in part]
    out: list[Ranked] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(PROJECT, data_dir=Path(tmp))
        import_kb(settings)
        engine = Engine.from_settings(settings, model_path=model_for(PROJECT))
        rank = engine._rank
        captured: list[dict[str, float | str]] = []

        def recording_rank(hits, parse, k, holding=frozenset(), facts=None, nlu=None):  # type: ignore[no-untyped-def]
            kept = [h for h in hits if CLARIFY_TAG not in h.entry.tags]
            scores = {hit.entry.id: score for score, hit in ranking.rank(hits, parse, settings.suggest, facts or engine.kb.shop, holding, nlu)}
            best = max((h.score for h in kept), default=0.0)
            for position, hit in enumerate(kept):
                floor = hit.entry.intent in holding and HOLDING_TAG in hit.entry.tags
                retrieval = max(hit.score, settings.suggest.holding_score) if floor else hit.score
                confidence = parse.confidence_of(hit.entry.intent)
                rasa = nlu.confidence_of(hit.entry.intent) if nlu is not None else 0.0
                captured.append({"id": hit.entry.id, "retrieval": retrieval, "dense": hit.dense, "lexical": hit.lexical,
                                 "intent_confidence": confidence, "rasa_confidence": rasa,
                                 "top_intent": float(parse.intent.name == hit.entry.intent),
                                 "rasa_top": float(nlu is not None and nlu.intent.name == hit.entry.intent),
                                 "holding": float(floor), "gap": hit.score - best, "log_position": float(np.log1p(position)),
                                 "engine": scores[hit.entry.id]})
            return rank(hits, parse, k, holding, facts, nlu)

        engine._rank = recording_rank  # type: ignore[method-assign]
        for line in lines:
            captured.clear()
            result = engine.suggest(line.text, context=list(line.context) or None)
            out.append({"dev": line, "abstained": result.abstained, "ids": [r.id for r in result.suggestions],
                        "candidates": list(captured)})
    return out


Scorer = Callable[[np.ndarray], np.ndarray]


def matrix(line: Ranked) -> np.ndarray:
    return np.array([[c[f] for f in FEATURES] for c in line["candidates"]], dtype=float)


def ordered(line: Ranked, scorer: Scorer | None) -> list[str]:
    """The replies in the scorer's order (the engine's own replies where it ranked nothing, or for scorer None)."""
    if scorer is None or not line["candidates"]:
        return line["ids"]
    ids: list[str] = []
    for i in np.argsort(-scorer(matrix(line)), kind="stable"):
        if line["candidates"][i]["id"] not in ids:
            ids.append(line["candidates"][i]["id"])
    return ids[:3]


def first_and_top3(lines: Sequence[Ranked], scorers: Sequence[Scorer | None]) -> tuple[float, float]:
    """Acceptable first / in the top 3 over the answerable lines, each read with its own scorer (real_dev.outcomes:
    an abstention is a miss)."""
    import real_dev

    scored = [real_dev.outcomes(line["dev"], {"ids": ordered(line, scorer), "abstained": line["abstained"]})
              for line, scorer in zip(lines, scorers) if line["dev"].answerable]
    return sum(o["first"] for o in scored) / len(scored), sum(o["top3"] for o in scored) / len(scored)


def _training(lines: Sequence[Ranked]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Lines with something to learn: candidates ranked, some acceptable and some not."""
    groups = []
    for line in lines:
        if line["candidates"] and line["dev"].answerable and not line["abstained"]:
            x, y = matrix(line), np.array([c["id"] in line["dev"].acceptable for c in line["candidates"]])
            if y.any() and not y.all():
                groups.append((x, y))
    return groups


def pointwise(lines: Sequence[Ranked]) -> Scorer:
    from sklearn.linear_model import LogisticRegression

    groups = _training(lines)
    model = LogisticRegression(max_iter=3000).fit(np.vstack([x for x, _ in groups]), np.concatenate([y for _, y in groups]))
    return model.decision_function


def listwise(lines: Sequence[Ranked]) -> Scorer:
    """A conditional logit: P(candidate) = softmax over the line's candidates of w·x; maximises the log probability
    of the acceptable ones (together), with an L2 penalty, starting from the engine's own order."""
    from scipy.optimize import minimize
    from scipy.special import logsumexp

    groups = _training(lines)
    stacked = np.vstack([x for x, _ in groups])
    mean, scale = stacked.mean(0), stacked.std(0) + 1e-9
    groups = [((x - mean) / scale, y) for x, y in groups]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = PENALTY * w @ w, 2 * PENALTY * w
        for x, y in groups:
            s = x @ w
            p = np.exp(s - logsumexp(s))
            total -= logsumexp(s[y]) - logsumexp(s)
            grad -= x.T @ (p * y / p[y].sum() - p)
        return total, grad

    start = np.zeros(len(FEATURES))
    start[FEATURES.index("engine")] = 1.0
    w = minimize(loss, start, jac=True, method="L-BFGS-B").x
    return lambda x: ((x - mean) / scale) @ w


MODELS: dict[str, Callable[[Sequence[Ranked]], Scorer] | None] = {
    "engine's score": None, "logistic regression": pointwise, "conditional logit": listwise}


def evaluate(lines: list[Ranked], report: bool) -> dict[str, dict[str, tuple[float, float]]]:
    """Per model and file, acceptable first / top 3: out of fold on the tuning part, or on the report part."""
    tune = [line for line in lines if line["dev"].part == "tune"]
    if report:
        test = [line for line in lines if line["dev"].part == "report"]
        fitted = {name: fit(tune) if fit else None for name, fit in MODELS.items()}
        scorers = {name: [scorer] * len(test) for name, scorer in fitted.items()}
    else:
        test = []
        scorers = {name: [] for name in MODELS}
        for fold in np.array_split(np.random.default_rng(0).permutation(len(tune)), FOLDS):
            held = set(fold.tolist())
            train = [line for i, line in enumerate(tune) if i not in held]
            test += [tune[i] for i in fold]
            for name, fit in MODELS.items():
                scorer = fit(train) if fit else None
                scorers[name] += [scorer] * len(fold)
    return {name: {file: first_and_top3(*zip(*[(line, s) for line, s in zip(test, scorers[name]) if line["dev"].file == file]))
                   for file in FILES} for name in MODELS}


def main() -> None:
    from real_quality import _seed_list

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=_seed_list, default=[None], metavar="42,43,44", help="fine-tuning seeds (default: the shipped one)")
    parser.add_argument("--report", action="store_true", help="fit on the whole tuning part and read the report part")
    parser.add_argument("--data-dir", type=Path, default=None, help="real_dev directory (default ../shared/data/real_dev)")
    args = parser.parse_args()
    results = [evaluate(candidates(seed, args.data_dir), args.report) for seed in args.seeds]
    where = "report part, fitted on the tuning part" if args.report else f"tuning part, {FOLDS} folds"
    print(f"\n{where}; original labels; acceptable first / top 3 (abstentions count as misses)\n")
    print("| seed | ranker | messages | conversation turns |\n|---|---|---|---|")
    for seed, result in zip(args.seeds, results):
        for name, by_file in result.items():
            cells = " | ".join(f"{by_file[f][0]:.3f} / {by_file[f][1]:.3f}" for f in FILES)
            print(f"| {seed if seed is not None else 'shipped'} | {name} | {cells} |")
    if len(results) > 1:
        for name in MODELS:
            cells = " | ".join(" / ".join(f"{np.mean([r[name][f][i] for r in results]):.3f}" for i in (0, 1)) for f in FILES)
            print(f"| mean | {name} | {cells} |")

if __name__ == "__main__":
    main()
