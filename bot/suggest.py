"""The suggestion engine: message -> intent (Rasa) -> retrieval (faiss + BM25) -> ranking -> filled replies."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from bot.context import Turn, resolve
from bot.encoder import Encoder, load_encoder
from bot.errors import MessageError
from bot.index import Hit, KBIndex, fingerprint_for, index_for
from bot.intents import OUT_OF_SCOPE
from bot.kb import Entry, KBContent
from bot.kb.store import KBStore
from bot.kb.template import fill
from bot.nlu import IntentClassifier, IntentParse, IntentScore, latest_model
from bot.segment import content_chars, load_user_dicts
from bot.settings import Settings

CLARIFY_TAG = "clarify"
RETRIEVAL_INTENT_DEPTH = 10
COMPACT_AFTER = 200  # overlay entries before the index is rebuilt in the background


@dataclass(frozen=True)
class Reply:
    """One suggested reply, ready for the agent's reply box."""

    id: str
    text: str
    score: float
    intent: str
    matched_question: str
    filled: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Suggestion:
    """What the agent sees beside the chat for one buyer message."""

    intent: IntentScore
    intent_ranking: tuple[IntentScore, ...]
    suggestions: tuple[Reply, ...]
    abstained: bool
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "intent": asdict(self.intent),
            "intent_ranking": [asdict(s) for s in self.intent_ranking],
            "suggestions": [asdict(r) for r in self.suggestions],
            "abstained": self.abstained,
            "reason": self.reason,
        }


def check_message(text: object, max_chars: int) -> str:
    """The message as text, or a MessageError that says what is wrong with it."""
    if not isinstance(text, str):
        raise MessageError(f"message must be text, not {type(text).__name__}")
    if "\x00" in text:
        raise MessageError("message contains a NUL character")
    stripped = text.strip()
    if not stripped:
        raise MessageError("message is empty")
    if len(stripped) > max_chars:
        raise MessageError(f"message is {len(stripped)} characters; the limit is {max_chars}")
    return stripped


class Engine:
    """Loads the Rasa model, the KB and its index once; `suggest` is the one code path for CLI, HTTP and Rasa.

    `sync` makes approved KB changes live without a restart: changed entries go into the index's overlay
    and a new index object is swapped in (searches in flight finish on the old one); when the overlay
    grows, a background thread compacts it into a fresh build and swaps that in the same way.
    """

    def __init__(self, settings: Settings, classifier: IntentClassifier, store: KBStore, encoder: Encoder) -> None:
        self.settings = settings
        self.classifier = classifier
        self.store = store
        self.encoder = encoder
        self.kb: KBContent = KBContent()  # the live KB: shop profile and approved entries
        self.index: KBIndex | None = None
        self.seq = 0  # the last KB change applied
        self._sync_lock = threading.RLock()
        self._compacting: threading.Thread | None = None
        self.refresh()

    @classmethod
    def from_settings(cls, settings: Settings, model_path: Path | None = None) -> "Engine":
        load_user_dicts(settings.project_dir / "data" / "dict")
        store = KBStore(settings.db_url)
        classifier = IntentClassifier(model_path or latest_model(settings.models_dir))
        return cls(settings, classifier, store, load_encoder(settings.encoder))

    def refresh(self, progress: bool = False) -> bool:
        """Reload the KB from the database; rebuild the index only if the KB or encoder changed."""
        with self._sync_lock:
            seq = self.store.last_change()  # read first: a change made during the load is applied again later
            kb = self.store.approved()
            self.index, built = index_for(self.settings, kb, self.encoder, progress=progress, reuse=self.index)
            self.kb, self.seq = kb, seq
        return built

    def sync(self) -> bool:
        """Apply KB changes made since the last sync (by this process or another); True if anything changed."""
        with self._sync_lock:
            seq, changed = self.store.changes_since(self.seq)
            if seq == self.seq:
                return False
            if changed is None or self.index is None or self.kb.shop != self.store.shop():
                self.refresh()
                return True
            self._apply(changed)
            self.seq = seq
        if self.index.overlay_size > COMPACT_AFTER:
            self.compact_in_background()
        return True

    def _apply(self, changed: set[str]) -> None:
        assert self.index is not None
        current = self.store.entries(changed)
        self.index = self.index.apply([e for e in current.values() if e.approved], changed)
        self.kb = KBContent(shop=self.kb.shop, entries=self.index.live_entries())

    def compact_in_background(self) -> threading.Thread:
        """Fold the index's overlay into a fresh build off the request path, then swap it in and save it."""
        with self._sync_lock:
            if self._compacting is not None and self._compacting.is_alive():
                return self._compacting
            self._compacting = threading.Thread(target=self._compact, name="index-compaction", daemon=True)
            self._compacting.start()
            return self._compacting

    def _compact(self) -> None:
        with self._sync_lock:
            index, kb, seq = self.index, self.kb, self.seq
        assert index is not None
        fresh = index.compact(kb, fingerprint_for(self.settings, kb, self.encoder))
        fresh.save(self.settings.index_dir)
        with self._sync_lock:
            latest, changed = self.store.changes_since(seq)
            if changed is None:
                return  # a whole-KB change arrived meanwhile: the next sync reloads
            self.index = fresh.apply(list(self.store.entries(changed).values()), changed) if changed else fresh
            self.kb = KBContent(shop=kb.shop, entries=self.index.live_entries())
            self.seq = latest

    # -- the pipeline ----------------------------------------------------------------------

    def suggest(self, message: str, context: Sequence[Turn] | None = None, k: int | None = None) -> Suggestion:
        k = self.settings.suggest.k if k is None else k
        text = check_message(message, self.settings.limits.max_message_chars)
        if content_chars(text) == 0:
            return self._abstain(IntentScore(OUT_OF_SCOPE, 0.0), (), "no words to match (only emoji or punctuation)")
        classify_text, retrieve_text = resolve(text, context)
        assert self.index is not None
        hits = self.index.search(retrieve_text, max(10, 4 * k))
        parse = self._intent(self.classifier.parse(classify_text), hits)
        replies = self._rank(hits, parse, k)
        if not replies or replies[0].score < self.settings.suggest.min_score:
            best = f"{replies[0].score:.2f}" if replies else "none"
            return self._abstain(
                parse.intent, parse.ranking, f"no confident match (best score {best} < {self.settings.suggest.min_score})"
            )
        return Suggestion(parse.intent, parse.ranking, tuple(replies[:k]), abstained=False)

    def _intent(self, nlu: IntentParse, hits: list[Hit]) -> IntentParse:
        """Rasa's intent ranking, blended with the intents of the best-matching vetted entries.

        DIET is sure of itself even when wrong; when the knowledge base holds a close match of
        another intent, that evidence moves the ranking (weight `retrieval_intent_weight`).
        """
        weight = self.settings.suggest.retrieval_intent_weight
        if weight <= 0 or not hits:
            return nlu
        scores = np.array([h.score for h in hits[:RETRIEVAL_INTENT_DEPTH]])
        shares = np.exp((scores - scores.max()) / self.settings.suggest.retrieval_intent_temperature)
        shares /= shares.sum()
        blended = {s.name: (1 - weight) * s.confidence for s in nlu.ranking}
        for hit, share in zip(hits, shares):
            blended[hit.entry.intent] = blended.get(hit.entry.intent, 0.0) + weight * float(share)
        ranking = tuple(IntentScore(n, round(c, 6)) for n, c in sorted(blended.items(), key=lambda kv: -kv[1]))
        return IntentParse(intent=ranking[0], ranking=ranking)

    def _rank(self, hits: list[Hit], parse: IntentParse, k: int) -> list[Reply]:
        """Blend retrieval with the intent: a strong match can still overrule an unsure intent."""
        weight = self.settings.suggest.intent_weight
        scored = []
        for hit in hits:
            if CLARIFY_TAG in hit.entry.tags:
                continue
            score = (1 - weight) * hit.score + weight * parse.confidence_of(hit.entry.intent)
            scored.append((score, hit))
        scored.sort(key=lambda pair: -pair[0])
        return [self._reply(hit.entry, score, hit.matched) for score, hit in scored[:k]]

    def _reply(self, entry: Entry, score: float, matched: str) -> Reply:
        """The entry's answer filled with the shop's facts."""
        filled = fill(entry.answer, self.kb.shop)
        return Reply(entry.id, filled.text, round(float(score), 4), entry.intent, matched, filled.filled)

    def _abstain(self, intent: IntentScore, ranking: tuple[IntentScore, ...], reason: str) -> Suggestion:
        """No confident reply: say why, and offer the clarifying script if the KB has one."""
        scripts = [e for e in self.kb.approved() if CLARIFY_TAG in e.tags][:1]
        clarify = tuple(self._reply(e, 0.0, matched="") for e in scripts)
        return Suggestion(intent, ranking, clarify, abstained=True, reason=reason)
