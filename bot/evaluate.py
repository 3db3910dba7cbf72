"""Quality of the engine on labelled messages: intent accuracy, macro-F1, hit@k, MRR, abstention, latency."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np


@dataclass(frozen=True)
class Labelled:
    text: str
    intent: str
    replies: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    item: Labelled
    predicted_intent: str
    confidence: float
    reply_ids: tuple[str, ...]
    abstained: bool
    seconds: float

    def rank(self) -> int | None:
        """1-based rank of the first correct reply, None if no correct reply was suggested."""
        return next((i for i, r in enumerate(self.reply_ids, 1) if r in self.item.replies), None)


def labelled(items: Iterable[Mapping[str, Any]]) -> list[Labelled]:
    return [Labelled(str(i["text"]), str(i["intent"]), tuple(i.get("replies") or ())) for i in items]


def run(engine: Any, items: Sequence[Labelled], k: int = 3, progress: bool = False) -> list[Outcome]:
    """Suggest for every item, timing each call."""
    iterator: Iterable[Labelled] = items
    if progress:
        from tqdm import tqdm

        iterator = tqdm(items, desc="suggest", unit="msg")
    outcomes = []
    for item in iterator:
        start = time.perf_counter()
        result = engine.suggest(item.text, k=k)
        seconds = time.perf_counter() - start
        outcomes.append(
            Outcome(
                item,
                result.intent.name,
                result.intent.confidence,
                tuple(r.id for r in result.suggestions) if not result.abstained else (),
                result.abstained,
                seconds,
            )
        )
    return outcomes


def metrics(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Summary numbers; hit@k and MRR count only items that have reply labels."""
    from sklearn.metrics import f1_score

    gold = [o.item.intent for o in outcomes]
    predicted = [o.predicted_intent for o in outcomes]
    with_replies = [o for o in outcomes if o.item.replies]
    ranks = [o.rank() for o in with_replies]
    latency_ms = np.array([o.seconds * 1000 for o in outcomes]) if outcomes else np.zeros(1)
    labels = sorted(set(gold))
    return {
        "n": len(outcomes),
        "intent_accuracy": float(np.mean([g == p for g, p in zip(gold, predicted)])) if outcomes else 0.0,
        "intent_macro_f1": float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)),
        "n_with_replies": len(with_replies),
        "hit@1": float(np.mean([r == 1 for r in ranks])) if ranks else 0.0,
        "hit@3": float(np.mean([r is not None and r <= 3 for r in ranks])) if ranks else 0.0,
        "mrr": float(np.mean([1 / r if r else 0.0 for r in ranks])) if ranks else 0.0,
        "abstention_rate": float(np.mean([o.abstained for o in outcomes])) if outcomes else 0.0,
        "latency_ms_p50": float(np.percentile(latency_ms, 50)),
        "latency_ms_p95": float(np.percentile(latency_ms, 95)),
    }
