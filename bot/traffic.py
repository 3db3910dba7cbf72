"""Learning from traffic: buyer messages the KB served badly, clustered, each cluster with a proposed KB change.

A message counts when the engine abstained on it, when the agent ignored every suggestion and wrote
their own reply, or when the agent rewrote the suggestion heavily. Similar messages are grouped
(average-linkage clustering on the encoder's vectors); each group gets one proposal: add the messages
as question variants of the entry they are closest to, or start a new entry from them with the
agents' own reply as the draft answer. The editor accepts or dismisses a group in one click.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import Counter, OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np
import sqlalchemy as sa

from bot.db import conversations_table, feedback_table, messages_table, now, traffic_reviewed_table
from bot.encoder import Encoder
from bot.errors import BotError
from bot.index.search import KBIndex
from bot.kb.editor import KBEditor
from bot.kb.records import EntryRecord
from bot.normalize import normalize

REWRITE_RATIO = 0.5  # an edit distance above this share of the reply's length is a heavy rewrite
CLUSTER_DISTANCE = 0.2  # cosine distance (1 - similarity) within which messages join one group, without a KB to
# measure it on: with one, how far apart the encoder puts one entry's own phrasings (KBIndex.phrasing_distance)
VARIANT_MIN_SCORE = 0.7  # a group whose closest entry scores this much becomes "add as variants", without a KB to
# measure the encoder on; with one, the score follows its phrasing distance too (variant_min_score)
VARIANT_DISTANCE_SHARE = 0.72  # ... a group joins an entry within this share of the KB's phrasing distance (1 - score)
MAX_MESSAGES = 2000  # newest unreviewed buyer messages read for the traffic page
ENCODE_CHUNK = 32
VECTORS_KEPT = 2 * MAX_MESSAGES  # message vectors each encoder keeps for the next page (512 floats each: 8 MB); shops
# that share an encoder share these, so with several big snapshots paged at once a page may encode its messages again
MAX_QUESTIONS = 10


@dataclass(frozen=True)
class Missed:
    """One buyer message the suggestions did not serve, and what the agent sent instead."""

    message_id: int
    text: str
    reason: str  # abstained | rejected | rewritten
    intent: str | None = None
    agent_reply: str | None = None


@dataclass(frozen=True)
class Closest:
    """The KB entry a group of messages matches best, as the traffic page proposes it."""

    entry_id: str
    question: str  # the entry's question that matched the first of the messages
    score: float  # the mean over the messages (a message whose three best hits miss the entry counts 0)


@dataclass
class Cluster:
    """Similar missed messages and the KB change proposed for them."""

    key: str
    messages: list[Missed]
    action: str  # variant | new_entry
    entry_id: str | None = None
    entry_question: str | None = None
    score: float | None = None
    questions: list[str] = field(default_factory=list)
    intent: str | None = None
    answer: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "size": len(self.messages), "reasons": dict(Counter(m.reason for m in self.messages))}


def group_order(members: Sequence[Missed]) -> tuple[int, int]:
    """Where a group comes on the traffic page: biggest first, then the one with the newest message first."""
    return (-len(members), -max(m.message_id for m in members))


def _of_shop(query: Any, shop: str | None) -> Any:
    """Only messages of the shop's conversations (None: of every shop: the common layer's editors see them all)."""
    if shop is None:
        return query
    return query.where(messages_table.c.conversation_id.in_(sa.select(conversations_table.c.id).where(conversations_table.c.shop == shop)))


@dataclass(frozen=True)
class Snapshot:
    """What one look at the traffic reads: the unreviewed buyer messages with ids from `since` to `upto` (at most
    MAX_MESSAGES when taken), with the feedback up to id `feedback`. Written "since.upto.feedback"."""

    since: int
    upto: int
    feedback: int

    def __str__(self) -> str:
        return f"{self.since}.{self.upto}.{self.feedback}"

    @classmethod
    def parse(cls, raw: str) -> "Snapshot":
        """The snapshot a page's `snapshot` names; ValueError if it is not three ids."""
        return cls(*_ids(raw, 3))


def format_after(members: Sequence[Missed]) -> str:
    """The `next_after` of a page that ends with this group: its size and newest message id, "3.1042"."""
    return f"{len(members)}.{max(m.message_id for m in members)}"


def parse_after(raw: str) -> tuple[int, int]:
    """The group a page's `next_after` names ("size.newest message id"); ValueError if it is not two ids."""
    size, newest = _ids(raw, 2)
    return size, newest


def _ids(raw: str, count: int) -> list[int]:
    """`count` non-negative integers of at most 18 digits joined by "."; ValueError otherwise."""
    parts = raw.split(".")
    if len(parts) != count or not all(p.isascii() and p.isdigit() and len(p) <= 18 for p in parts):
        raise ValueError(raw)
    return [int(p) for p in parts]


def _unreviewed(shop: str | None) -> Any:
    """The ids of the buyer messages (of the shop's conversations) not yet reviewed, newest first."""
    reviewed = sa.exists().where(traffic_reviewed_table.c.message_id == messages_table.c.id)  # an anti-join on its key
    return _of_shop(sa.select(messages_table.c.id).where(messages_table.c.role == "customer", ~reviewed), shop).order_by(messages_table.c.id.desc())


def take_snapshot(db: sa.engine.Engine, shop: str | None = None) -> Snapshot:
    """The traffic now: the newest MAX_MESSAGES unreviewed buyer messages and the feedback so far; an empty
    snapshot (no message) is 0.0.N. On PostgreSQL, feedback that commits within moments of it, with an id it counts,
    may still enter it."""
    with db.connect() as conn:
        feedback = int(conn.execute(sa.select(sa.func.max(feedback_table.c.id))).scalar() or 0)
        window = _unreviewed(shop).limit(MAX_MESSAGES).subquery()
        since, upto = conn.execute(sa.select(sa.func.min(window.c.id), sa.func.max(window.c.id))).one()
    return Snapshot(int(since or 0), int(upto or 0), feedback)


def missed_messages(db: sa.engine.Engine, snapshot: Snapshot, shop: str | None = None) -> list[Missed]:
    """The buyer messages of a snapshot that were abstained on, rejected or heavily rewritten, as its feedback tells,
    and are not reviewed yet."""
    with db.connect() as conn:
        # bounded whatever the snapshot says: a made-up one reads no more than a real one
        window = _unreviewed(shop).where(messages_table.c.id.between(snapshot.since, snapshot.upto)).limit(MAX_MESSAGES)
        rows = conn.execute(
            sa.select(feedback_table, messages_table.c.text.label("message_text"))
            .join(messages_table, messages_table.c.id == feedback_table.c.message_id)
            .where(
                feedback_table.c.event.in_(("abstained", "shown", "sent", "edited")),
                feedback_table.c.id <= snapshot.feedback,
                feedback_table.c.message_id.in_(window.scalar_subquery()),
            )
            .order_by(feedback_table.c.message_id.desc(), feedback_table.c.id)
        ).all()
    by_message: dict[int, list[Any]] = {}
    for row in rows:
        by_message.setdefault(row.message_id, []).append(row)
    missed = []
    for message_id, events in by_message.items():
        kinds = {e.event for e in events}
        sent = next((e for e in events if e.event == "sent"), None)
        intent = next((e.intent for e in events if e.intent), None)
        reply = sent.final_text if sent is not None else None
        text = events[0].message_text
        if "abstained" in kinds:
            missed.append(Missed(message_id, text, "abstained", intent, reply))
        elif "shown" in kinds and sent is not None and sent.entry_id is None:
            missed.append(Missed(message_id, text, "rejected", intent, reply))
        elif any(e.event == "edited" and (e.edit_distance or 0) > REWRITE_RATIO * max(len(e.final_text or ""), 1) for e in events):
            missed.append(Missed(message_id, text, "rewritten", intent, reply))
    return missed


def group_distance(index: KBIndex | None) -> float:
    """The cosine distance within which missed messages join one group: as far apart as two phrasings of one KB entry
    typically sit with this encoder (CLUSTER_DISTANCE when the KB has too few to tell). A fixed distance fits one
    encoder only: fine-tuned on the KB, the encoder puts phrasings of one question twice as far apart as m3e-small as
    shipped does, and at the fixed 0.2 chosen for the latter few messages grouped."""
    distance = index.phrasing_distance() if index is not None else None
    return CLUSTER_DISTANCE if distance is None else distance


def groups_within(vectors: np.ndarray, distance: float) -> list[list[int]]:
    """Positions of the vectors grouped by average linkage within this cosine distance, biggest group first."""
    if len(vectors) < 2:
        return [list(range(len(vectors)))] if len(vectors) else []
    from sklearn.cluster import AgglomerativeClustering

    labels = AgglomerativeClustering(
        n_clusters=None, affinity="cosine", linkage="average", distance_threshold=distance
    ).fit_predict(vectors)
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(int(label), []).append(i)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def cluster_key(message_ids: Sequence[int]) -> str:
    return hashlib.sha256(",".join(map(str, sorted(message_ids))).encode()).hexdigest()[:12]


def variant_min_score(index: KBIndex | None) -> float:
    """The mean score at which a group's closest entry is proposed for its messages ("add as variants"): as close as
    VARIANT_DISTANCE_SHARE of the distance at which this encoder puts two phrasings of one KB entry (VARIANT_MIN_SCORE
    when the KB has too few to tell). A fixed score fits one encoder only: 0.7 suits the encoder fine-tuned on the KB,
    but m3e-small as shipped scores every text higher and reached it with wrong entries ("能刻字吗" → an angry buyer's
    reply at 0.72); measured by bench/traffic_groups.py."""
    distance = index.phrasing_distance() if index is not None else None
    return VARIANT_MIN_SCORE if distance is None else 1.0 - VARIANT_DISTANCE_SHARE * distance


def closest_entry(index: KBIndex, texts: Sequence[str]) -> Closest | None:
    """The entry these messages match best on average over each message's three best hits; None without any hit."""
    totals: dict[str, list[float]] = {}
    best_question: dict[str, str] = {}
    for text in texts:
        for hit in index.search(text, 3):
            totals.setdefault(hit.entry.id, []).append(hit.score)
            best_question.setdefault(hit.entry.id, hit.matched)
    if not totals:
        return None
    entry_id, scores = max(totals.items(), key=lambda kv: sum(kv[1]) / len(texts))
    return Closest(entry_id, best_question[entry_id], sum(scores) / len(texts))


def _propose(members: list[Missed], index: KBIndex | None, editor: KBEditor) -> Cluster:
    texts = list(dict.fromkeys(m.text.strip() for m in members))
    taken = editor.store.question_owners(texts)
    fresh = [t for t in texts if t not in taken][:MAX_QUESTIONS]
    key = cluster_key([m.message_id for m in members])
    closest = closest_entry(index, fresh) if index is not None and fresh else None
    if closest is not None and closest.score >= variant_min_score(index):
        return Cluster(key, members, "variant", closest.entry_id, closest.question, round(closest.score, 4), fresh)
    intents = Counter(m.intent for m in members if m.intent)
    if not intents and index is not None:
        intents = Counter(h.entry.intent for t in texts[:3] for h in index.search(t, 1))
    replies = Counter(m.agent_reply.strip() for m in members if m.agent_reply and m.agent_reply.strip())
    return Cluster(
        key, members, "new_entry", questions=fresh or texts[:MAX_QUESTIONS],
        intent=intents.most_common(1)[0][0] if intents else None,
        answer=replies.most_common(1)[0][0] if replies else None,
    )


class _MessageVectors:
    """The traffic page's message vectors, kept per encoder (by text) in this process: the next page of a snapshot
    encodes only what the last one did not. Apart from the suggestion path's own cache, which they would flush."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_encoder: "weakref.WeakKeyDictionary[Encoder, OrderedDict[str, np.ndarray]]" = weakref.WeakKeyDictionary()

    def get(self, encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            kept = self._by_encoder.setdefault(encoder, OrderedDict())
            found = {t: kept[t] for t in texts if t in kept}
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        # a few texts per encoder call: agents' suggestions, which need the same encoder, get their turn in between
        for start in range(0, len(missing), ENCODE_CHUNK):
            chunk = missing[start:start + ENCODE_CHUNK]
            found.update((text, row.copy()) for text, row in zip(chunk, encoder.encode(chunk)))  # a row, not a view of its chunk
        with self._lock:
            for text in texts:
                kept[text] = found[text]
                kept.move_to_end(text)
            while len(kept) > VECTORS_KEPT:
                kept.popitem(last=False)
        return np.stack([found[t] for t in texts])


_message_vectors = _MessageVectors()


def message_vectors(encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
    """Buyer messages' vectors, normalised as queries and the KB's rows are (kept for the next page)."""
    return _message_vectors.get(encoder, [normalize(t) for t in texts])


def _missed_groups(db: sa.engine.Engine, encoder: Encoder, shop: str | None, snapshot: Snapshot, distance: float) -> list[list[Missed]]:
    """A snapshot's missed messages grouped by meaning (within `distance`), in `group_order`."""
    missed = missed_messages(db, snapshot, shop)
    if not missed:
        return []
    vectors = message_vectors(encoder, [m.text for m in missed])
    return sorted(([missed[i] for i in group] for group in groups_within(vectors, distance)), key=group_order)


@dataclass(frozen=True)
class ClusterPage:
    """One page of a snapshot's groups."""

    clusters: list[Cluster]
    count: int  # the snapshot's groups not yet reviewed, on every page
    snapshot: Snapshot
    next_after: str | None  # the `after` of the next page ("size.newest message id"), None on the last


def cluster_page(
    db: sa.engine.Engine, encoder: Encoder, index: KBIndex | None, editor: KBEditor, shop: str | None = None,
    limit: int = 50, snapshot: Snapshot | None = None, after: tuple[int, int] | None = None,
) -> ClusterPage:
    """`limit` groups of a snapshot (None: one taken now) that come after the group `after` (its size and newest
    message id) in `group_order`, each with its proposal. A snapshot fixes the messages and the feedback read, so new
    traffic changes no page; pages are cut by that order, not by position, so a whole group accepted or dismissed
    meanwhile shifts no later one (a group reviewed in part may regroup its rest and the groups near it)."""
    snapshot = snapshot or take_snapshot(db, shop)
    groups = _missed_groups(db, encoder, shop, snapshot, group_distance(index))
    rest = [g for g in groups if after is None or group_order(g) > (-after[0], -after[1])]
    shown = rest[:limit]
    next_after = format_after(shown[-1]) if shown and len(rest) > limit else None
    return ClusterPage([_propose(group, index, editor) for group in shown], len(groups), snapshot, next_after)


class ReviewError(BotError):
    """A traffic decision that cannot be applied (unknown or already reviewed messages)."""


def _check(conn: sa.engine.Connection, message_ids: Sequence[int], shop: str | None) -> None:
    if not message_ids or not all(isinstance(m, int) and not isinstance(m, bool) for m in message_ids):
        raise ReviewError("'message_ids' must be a non-empty list of message ids")
    known = set(conn.execute(_of_shop(sa.select(messages_table.c.id).where(messages_table.c.id.in_(list(message_ids))), shop)).scalars())
    unknown = sorted(set(message_ids) - known)
    if unknown:
        raise ReviewError(f"unknown message id(s): {', '.join(map(str, unknown))}")
    done = set(conn.execute(sa.select(traffic_reviewed_table.c.message_id).where(traffic_reviewed_table.c.message_id.in_(list(message_ids)))).scalars())
    if done:
        raise ReviewError(f"message(s) already reviewed: {', '.join(map(str, sorted(done)))}")


def _mark(db: sa.engine.Engine, message_ids: Sequence[int], decision: str, entry_id: str | None, author: str, shop: str | None) -> None:
    stamp = now()
    with db.begin() as conn:
        _check(conn, message_ids, shop)
        conn.execute(
            traffic_reviewed_table.insert(),
            [{"message_id": m, "decision": decision, "entry_id": entry_id, "author": author, "created_at": stamp} for m in message_ids],
        )


def dismiss(db: sa.engine.Engine, message_ids: Sequence[int], author: str, shop: str | None = None) -> None:
    _mark(db, message_ids, "dismissed", None, author, shop)


def accept(
    db: sa.engine.Engine, editor: KBEditor, message_ids: Sequence[int], action: str, author: str,
    entry_id: str | None = None, questions: Sequence[str] = (), intent: str | None = None, answer: str | None = None,
    shop: str | None = None,
) -> EntryRecord:
    """Apply a proposal: add the questions as approved variants of entry_id, or create a draft entry from them (in the
    editor's shop; the messages must be of that shop's conversations, unless `shop` is None)."""
    with db.connect() as conn:
        _check(conn, message_ids, shop)  # before changing the KB
    if action == "variant":
        if not entry_id:
            raise ReviewError("'entry_id' is required to add variants")
        record = editor.get(entry_id)
        result = editor.add_variants(entry_id, questions, record.version, author, approve=True)
    elif action == "new_entry" and entry_id:  # the editor already created it from the prefilled form
        result = editor.get(entry_id)
    elif action == "new_entry":
        data = {"intent": intent, "questions": list(questions), "answer": answer or "", "tags": ["来自对话"]}
        result = editor.create(data, author, allow_similar=True)
    else:
        raise ReviewError("'action' must be 'variant' or 'new_entry'")
    _mark(db, message_ids, "accepted", result.entry.id, author, shop)
    return result
