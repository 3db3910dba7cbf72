"""The real buyer messages of ../shared/data/real_dev: loading, the tuning/report split, relabels, scoring and intervals.

Nothing here imports the engine: `bench/real_quality.py` runs engines in their own processes and scores
their predictions with these functions. The set's lines never leave it: the relabel file names lines by
file and line number with a hash of the text, not by the text.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

PROJECT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = Path(os.environ.get("REAL_DEV_DIR") or PROJECT.parent / "shared" / "data" / "real_dev")
RELABELS = PROJECT / "bench" / "real_dev_relabels.yml"
FILES = ("messages.jsonl", "conversations.jsonl")
CORE_INTENTS = ("price", "shipping_fee", "authenticity", "delivery_time")
SPLIT_SALT = "real-dev-split-v1"
PARTS = ("tune", "report")
RATES = ("first", "top3", "abstained_on_answerable", "offered_on_unanswerable")  # per-line outcomes, averaged


@dataclass(frozen=True)
class Line:
    """One buyer turn of the dev set with its labels; `context` holds the earlier turns of its conversation."""

    file: str
    number: int  # 1-based line number in its file
    text: str
    intent: str
    acceptable: tuple[str, ...]
    part: str  # "tune" or "report"
    conversation_id: str | None = None
    turn: int | None = None
    context: tuple[dict[str, str], ...] = field(default_factory=tuple)

    @property
    def key(self) -> str:
        return f"{self.file}:{self.number}"

    @property
    def answerable(self) -> bool:
        return bool(self.acceptable)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _rank_key(value: str) -> str:
    return hashlib.sha256(f"{SPLIT_SALT}:{value}".encode("utf-8")).hexdigest()


def _alternate(groups: dict[str, list[str]]) -> dict[str, str]:
    """Within each group (an intent), order the keys by a salted hash and deal them out tune, report, tune ..."""
    part: dict[str, str] = {}
    offset = 0
    for name in sorted(groups):
        for i, key in enumerate(sorted(groups[name], key=_rank_key)):
            part[key] = PARTS[(i + offset) % 2]
        offset += len(groups[name])  # odd-sized groups do not all give their extra line to the same part
    return part


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise SystemExit(f"{path} not found: set REAL_DEV_DIR or pass --data-dir (see ../shared/data/real_dev/README.md)")
    rows = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if raw.strip():
            rows.append((number, json.loads(raw)))
    return rows


def load(data_dir: Path = DEFAULT_DIR) -> dict[str, list[Line]]:
    """Both files as Lines, each with its split part; conversation turns carry their earlier turns as context.

    The context is what the console knows live: the earlier buyer messages, each followed by the KB entry
    the agent sent when an acceptable one exists (the first listed, as `bot eval` reads a log), otherwise
    the agent's reply is unknown. The set's English paraphrases of the agent are never given to the engine.
    """
    messages = _read_jsonl(data_dir / "messages.jsonl")
    by_intent: dict[str, list[str]] = defaultdict(list)
    for _, row in messages:
        by_intent[row["intent"]].append(row["text"])
    message_part = _alternate(by_intent)
    out: dict[str, list[Line]] = {"messages.jsonl": [], "conversations.jsonl": []}
    for number, row in messages:
        out["messages.jsonl"].append(
            Line("messages.jsonl", number, row["text"], row["intent"], tuple(row["acceptable"]), message_part[row["text"]])
        )

    turns = _read_jsonl(data_dir / "conversations.jsonl")
    conversations: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for number, row in turns:
        conversations[row["conversation_id"]].append((number, row))
    by_last_intent: dict[str, list[str]] = defaultdict(list)
    for conversation_id, rows in conversations.items():
        rows.sort(key=lambda pair: pair[1]["turn"])
        by_last_intent[rows[-1][1]["intent"]].append(conversation_id)
    conversation_part = _alternate(by_last_intent)
    for conversation_id, rows in conversations.items():
        context: list[dict[str, str]] = []
        for number, row in rows:
            out["conversations.jsonl"].append(
                Line(
                    "conversations.jsonl", number, row["text"], row["intent"], tuple(row["acceptable"]),
                    conversation_part[conversation_id], conversation_id, int(row["turn"]), tuple(context),
                )
            )
            context.append({"role": "customer", "text": row["text"]})
            if row["acceptable"]:
                context.append({"role": "agent", "text": "", "entry_id": row["acceptable"][0]})
    out["conversations.jsonl"].sort(key=lambda line: line.number)
    return out


def read_relabels(path: Path = RELABELS) -> dict[str, dict[str, Any]]:
    """`file:line` -> {"hash", "add": [...], "remove": [...], "why"} for lines whose labels the KB's new entries change."""
    if not path.is_file():
        return {}
    from ruamel.yaml import YAML

    raw = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8")) or {}
    return {str(key): value for key, value in (raw.get("lines") or {}).items()}


def relabel(lines: Sequence[Line], relabels: dict[str, dict[str, Any]]) -> list[Line]:
    """The lines with the relabels applied; a relabel whose text hash no longer matches its line is an error."""
    out = []
    for line in lines:
        change = relabels.get(line.key)
        if change is None:
            out.append(line)
            continue
        if change.get("hash") != text_hash(line.text):
            raise SystemExit(f"{RELABELS.name}: {line.key} no longer has the text it was relabelled for")
        acceptable = [a for a in line.acceptable if a not in set(change.get("remove") or ())]
        acceptable += [a for a in change.get("add") or () if a not in acceptable]
        out.append(replace(line, acceptable=tuple(acceptable)))
    return out


def with_setting(settings: Any, name: str, value: str) -> Any:
    """Settings with one `section.name` (or top-level `name`) replaced by a value parsed to the field's type."""
    section, _, key = name.rpartition(".")
    part = getattr(settings, section) if section else settings
    kind = type(getattr(part, key))
    parsed = value.lower() in ("1", "true", "yes") if kind is bool else kind(value)
    changed = replace(part, **{key: parsed})
    return replace(settings, **{section: changed}) if section else changed


def core(intent: str) -> str:
    """The four core intents, everything else "other" (how the held-aside set is scored)."""
    return intent if intent in CORE_INTENTS else "other"


def _macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    labels = sorted(set(gold))
    f1s = []
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s) if f1s else 0.0


def outcomes(line: Line, prediction: dict[str, Any]) -> dict[str, bool]:
    """What one prediction scores on one line: the rates of RATES that apply to it (the first three to an answerable
    line, the last to an unanswerable one). A prediction is {"intent", "ids", "abstained"}."""
    offered = [] if prediction["abstained"] else list(prediction["ids"])
    if not line.answerable:
        return {"offered_on_unanswerable": bool(offered)}
    return {
        "first": bool(offered) and offered[0] in line.acceptable,
        "top3": any(i in line.acceptable for i in offered[:3]),
        "abstained_on_answerable": bool(prediction["abstained"]),
    }


def _rate(hits: Iterable[bool], n: int) -> float | None:
    return round(sum(hits) / n, 3) if n else None


def score(lines: Sequence[Line], predictions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The issue's figures for these lines: intent (all 16 and core four + other), acceptable first / top 3,
    abstained on answerable, offered on unanswerable."""
    gold = [line.intent for line in lines]
    predicted = [predictions[line.key]["intent"] for line in lines]
    scored = [outcomes(line, predictions[line.key]) for line in lines]

    def rate_of(name: str) -> float | None:
        applies = [o[name] for o in scored if name in o]
        return _rate(applies, len(applies))

    return {
        "n": len(lines),
        "answerable": sum(line.answerable for line in lines),
        "unanswerable": sum(not line.answerable for line in lines),
        "intent_accuracy": _rate((g == p for g, p in zip(gold, predicted)), len(lines)),
        "intent_macro_f1": round(_macro_f1(gold, predicted), 3),
        "core_intent_accuracy": _rate((core(g) == core(p) for g, p in zip(gold, predicted)), len(lines)),
        "core_intent_macro_f1": round(_macro_f1([core(g) for g in gold], [core(p) for p in predicted]), 3),
        **{name: rate_of(name) for name in RATES},
    }


def by_intent(lines: Sequence[Line], predictions: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Acceptable first / top 3 on the answerable lines of each labelled intent: where a part's figure comes from."""
    groups: dict[str, list[dict[str, bool]]] = defaultdict(list)
    for line in lines:
        if line.answerable:
            groups[line.intent].append(outcomes(line, predictions[line.key]))
    return {
        intent: {"n": len(scored), **{name: _rate((o[name] for o in scored), len(scored)) for name in ("first", "top3")}}
        for intent, scored in sorted(groups.items())
    }


@dataclass(frozen=True)
class Interval:
    """A rate of one engine (and its change from another) with 95% bootstrap intervals."""

    figure: str
    n: int  # lines the rate is over
    value: float
    low: float
    high: float
    before: float | None = None
    change: float | None = None  # value - before
    change_low: float | None = None
    change_high: float | None = None


def intervals(
    lines: Sequence[Line],
    predictions: dict[str, dict[str, Any]],
    before: dict[str, dict[str, Any]] | None = None,
    rounds: int = 2000,
    seed: int = 0,
) -> dict[str, Interval | None]:
    """Each rate of RATES with a 95% percentile-bootstrap interval, and with `before` the change and its interval.

    The bootstrap resamples whole conversations (a conversation's turns are not independent; a message is its own
    conversation) and scores both engines on the same resample, so the change's interval is of the paired
    difference: much narrower than two separate intervals when the engines agree on most lines. None for a rate
    that applies to no line.
    """
    clusters: dict[str, int] = {}
    cluster_of = [clusters.setdefault(line.conversation_id or line.key, len(clusters)) for line in lines]
    after_outcomes = [outcomes(line, predictions[line.key]) for line in lines]
    before_outcomes = [outcomes(line, before[line.key]) for line in lines] if before is not None else None
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(clusters), size=(rounds, len(clusters))) if clusters else np.zeros((rounds, 0), dtype=int)
    out: dict[str, Interval | None] = {}
    for name in RATES:
        totals = np.zeros((3, len(clusters)))  # per conversation: lines the rate applies to, after's hits, before's hits
        for i, after in enumerate(after_outcomes):
            if name not in after:
                continue
            totals[0, cluster_of[i]] += 1
            totals[1, cluster_of[i]] += after[name]
            if before_outcomes is not None:
                totals[2, cluster_of[i]] += before_outcomes[i][name]
        n = int(totals[0].sum())
        if n == 0:
            out[name] = None
            continue
        sampled = totals[:, draws].sum(axis=2)  # (3, rounds)
        kept = sampled[0] > 0
        values = sampled[1, kept] / sampled[0, kept]
        low, high = np.percentile(values, [2.5, 97.5])
        interval = Interval(name, n, round(totals[1].sum() / n, 3), round(float(low), 3), round(float(high), 3))
        if before is not None:
            changes = (sampled[1, kept] - sampled[2, kept]) / sampled[0, kept]
            change_low, change_high = np.percentile(changes, [2.5, 97.5])
            prior = totals[2].sum() / n
            interval = replace(
                interval, before=round(float(prior), 3), change=round(float(totals[1].sum() / n - prior), 3),
                change_low=round(float(change_low), 3), change_high=round(float(change_high), 3),
            )
        out[name] = interval
    return out
