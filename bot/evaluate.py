"""Quality of the engine on labelled messages: intent accuracy and F1, confusion, hit@k, MRR, abstention, latency."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from bot.burst import combine, pending_questions
from bot.context import from_log, replay_log
from bot.logs import LogItem, map_intent

THRESHOLDS = [round(t, 2) for t in np.arange(0.0, 1.0001, 0.05)]


@dataclass(frozen=True)
class Outcome:
    item: LogItem
    predicted_intent: str  # after the intent map, in the log's label set
    confidence: float
    reply_ids: tuple[str, ...]
    abstained: bool
    seconds: float

    def rank(self) -> int | None:
        """1-based rank of the first correct reply, None if no correct reply was suggested."""
        return next((i for i, r in enumerate(self.reply_ids, 1) if r in self.item.reply_ids), None)

    def to_prediction(self) -> dict[str, Any]:
        return {
            "text": self.item.text,
            "gold_intent": self.item.intent,
            "predicted_intent": self.predicted_intent,
            "confidence": round(self.confidence, 6),
            "reply_ids": list(self.reply_ids),
            "abstained": self.abstained,
        }


def labelled(items: Iterable[Mapping[str, Any]]) -> list[LogItem]:
    """LogItems from the paraphrase files' dicts ({text, intent, replies})."""
    return [LogItem(str(i["text"]), str(i["intent"]), tuple(i.get("replies") or ())) for i in items]


def run(engine: Any, items: Sequence[LogItem], k: int = 3, progress: bool = False, intent_map: dict[str, str] | None = None) -> list[Outcome]:
    """Suggest for every item in input order, with its conversation's earlier turns as context, timing each call."""
    contexts = from_log(items)
    iterator: Iterable[int] = range(len(items))
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, total=len(items), desc="evaluating", unit="msg")
    outcomes = []
    for position in iterator:
        item = items[position]
        start = time.perf_counter()
        result = engine.suggest(item.text, context=contexts[position], k=k)
        seconds = time.perf_counter() - start
        outcomes.append(
            Outcome(
                item,
                map_intent(result.intent.name, intent_map),
                result.intent.confidence,
                tuple(r.id for r in result.suggestions) if not result.abstained else (),
                result.abstained,
                seconds,
            )
        )
    return outcomes


def pending_coverage(engine: Any, items: Sequence[LogItem], k: int = 3) -> dict[str, Any] | None:
    """Bursts: wherever the agent answers two or more waiting messages at once, the engine's pending questions and
    combined reply for them. `coverage` is the share of the bursts' labelled messages (those with acceptable replies;
    a bare "在吗" has none) whose acceptable reply is in the combined draft; `attributed`, in the part that names that
    message; `listed`, among the pending questions; `social_listed` counts unlabelled messages listed anyway;
    `last_only`, what the best suggestion for the burst's last message alone covers (the console before bursts).
    None when the log has no bursts."""
    bursts = labelled = listed = in_draft = attributed = social_listed = parts_total = last_only = 0
    for step in replay_log(items):
        answering = step.answering
        waiting = [t for t in answering.buyer_turns if not t.answered] if answering is not None else []
        if answering is None or len(waiting) < 2:
            continue
        bursts += 1
        pending = pending_questions(answering, lambda turn, before: engine.suggest(turn.text, context=before, k=k))
        combined = combine(pending)
        parts = combined.parts if combined else ()
        parts_total += len(parts)
        drafted = {p.entry_id for p in parts}
        pending_ids = {p.message_id for p in pending}
        last = engine.suggest(waiting[-1].text, context=answering.before(waiting[-1].message_id), k=k)
        last_best = {last.suggestions[0].id} if last.suggestions and not last.abstained else set()
        for turn in waiting:
            acceptable = set(items[step.positions[turn.message_id]].reply_ids)
            if not acceptable:
                social_listed += turn.message_id in pending_ids
                continue
            labelled += 1
            listed += turn.message_id in pending_ids
            in_draft += bool(drafted & acceptable)
            last_only += bool(last_best & acceptable)
            part = next((p for p in parts if turn.message_id in p.message_ids), None)
            attributed += part is not None and part.entry_id in acceptable
    if not bursts:
        return None
    share = (lambda n: n / labelled if labelled else None)
    return {
        "bursts": bursts,
        "labelled_messages": labelled,
        "coverage": share(in_draft),
        "attributed": share(attributed),
        "listed": share(listed),
        "last_only": share(last_only),
        "social_listed": social_listed,
        "parts_per_burst": parts_total / bursts,
    }


def _prf(gold: list[str], predicted: list[str], labels: list[str]) -> dict[str, dict[str, float]]:
    per: dict[str, dict[str, float]] = {}
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    return per


def metrics(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Summary numbers; hit@k and MRR count only items that have reply labels."""
    if not outcomes:
        raise ValueError("no outcomes to measure")
    gold = [o.item.intent for o in outcomes]
    predicted = [o.predicted_intent for o in outcomes]
    labels = sorted(set(gold) | set(predicted))
    per = _prf(gold, predicted, labels)
    gold_labels = sorted(set(gold))
    support = np.array([per[label]["support"] for label in gold_labels], dtype=float)
    f1s = np.array([per[label]["f1"] for label in gold_labels])
    index = {label: i for i, label in enumerate(labels)}
    confusion = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, predicted):
        confusion[index[g]][index[p]] += 1
    with_replies = [o for o in outcomes if o.item.reply_ids]
    ranks = [o.rank() for o in with_replies]
    latency = np.array([o.seconds * 1000 for o in outcomes])
    correct = np.array([g == p for g, p in zip(gold, predicted)])
    confidence = np.array([o.confidence for o in outcomes])
    curve = []
    for threshold in THRESHOLDS:
        covered = confidence >= threshold
        curve.append(
            {
                "threshold": threshold,
                "coverage": float(covered.mean()),
                "abstention": float(1 - covered.mean()),
                "accuracy": float(correct[covered].mean()) if covered.any() else None,
            }
        )
    return {
        "n": len(outcomes),
        "intent_accuracy": float(correct.mean()),
        "intent_macro_f1": float(f1s.mean()),
        "intent_weighted_f1": float((f1s * support).sum() / support.sum()),
        "per_intent": per,
        "confusion": {"labels": labels, "matrix": confusion},
        "n_with_replies": len(with_replies),
        "hit@1": float(np.mean([r == 1 for r in ranks])) if ranks else None,
        "hit@3": float(np.mean([r is not None and r <= 3 for r in ranks])) if ranks else None,
        "mrr": float(np.mean([1 / r if r else 0.0 for r in ranks])) if ranks else None,
        "abstention_rate": float(np.mean([o.abstained for o in outcomes])),
        "threshold_curve": curve,
        "latency_ms": {
            "p50": float(np.percentile(latency, 50)),
            "p95": float(np.percentile(latency, 95)),
            "p99": float(np.percentile(latency, 99)),
        },
    }
