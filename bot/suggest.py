"""The suggestion engine: message -> intent (Rasa) -> retrieval (faiss + BM25) -> ranking -> filled replies."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence, Union

from bot.encoder import Encoder, load_encoder
from bot.errors import MessageError
from bot.index import Hit, KBIndex, index_for
from bot.intents import OUT_OF_SCOPE
from bot.kb import KBContent
from bot.kb.store import KBStore
from bot.kb.template import fill
from bot.nlu import IntentClassifier, IntentParse, IntentScore, latest_model
from bot.segment import content_chars, load_user_dicts, normalize
from bot.settings import Settings

CLARIFY_TAG = "clarify"
FOLLOW_UP_MAX_CHARS = 12
Turn = Union[str, Mapping[str, str]]


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


def _customer_texts(context: Sequence[Turn] | None) -> list[str]:
    texts = []
    for turn in context or ():
        if isinstance(turn, str):
            texts.append(turn)
        elif turn.get("role", "customer") == "customer" and turn.get("text"):
            texts.append(str(turn["text"]))
    return [t for t in texts if t.strip()]


class Engine:
    """Loads the Rasa model, the KB and its index once; `suggest` is the one code path for CLI, HTTP and Rasa."""

    def __init__(self, settings: Settings, classifier: IntentClassifier, store: KBStore, encoder: Encoder) -> None:
        self.settings = settings
        self.classifier = classifier
        self.store = store
        self.encoder = encoder
        self.kb: KBContent = KBContent()
        self.index: KBIndex | None = None
        self.refresh()

    @classmethod
    def from_settings(cls, settings: Settings, model_path: Path | None = None) -> "Engine":
        load_user_dicts(settings.project_dir / "data" / "dict")
        store = KBStore(settings.db_url)
        classifier = IntentClassifier(model_path or latest_model(settings.models_dir))
        return cls(settings, classifier, store, load_encoder(settings.encoder))

    def refresh(self, progress: bool = False) -> bool:
        """Reload the KB from the database; rebuild the index only if the KB or encoder changed."""
        self.kb = self.store.load()
        self.index, built = index_for(self.settings, self.kb, self.encoder, progress=progress)
        return built

    # -- the pipeline ----------------------------------------------------------------------

    def suggest(self, message: str, context: Sequence[Turn] | None = None, k: int | None = None) -> Suggestion:
        k = self.settings.suggest.k if k is None else k
        text = check_message(message, self.settings.limits.max_message_chars)
        if content_chars(text) == 0:
            return self._abstain(IntentScore(OUT_OF_SCOPE, 0.0), (), "no words to match (only emoji or punctuation)")
        parse = self._parse_in_context(text, _customer_texts(context))
        hits = self._retrieve(text, _customer_texts(context), parse, k)
        replies = self._rank(hits, parse, k)
        if not replies or replies[0].score < self.settings.suggest.min_score:
            best = f"{replies[0].score:.2f}" if replies else "none"
            return self._abstain(
                parse.intent, parse.ranking, f"no confident match (best score {best} < {self.settings.suggest.min_score})"
            )
        return Suggestion(parse.intent, parse.ranking, tuple(replies[:k]), abstained=False)

    def _parse_in_context(self, text: str, history: list[str]) -> IntentParse:
        """Rasa's intent; a short follow-up it is unsure of ("这个呢") leans on the buyer's previous message."""
        parse = self.classifier.parse(text)
        if not history or parse.intent.confidence >= self.settings.suggest.follow_up_confidence:
            return parse
        if len(normalize(text)) > FOLLOW_UP_MAX_CHARS:
            return parse
        previous = self.classifier.parse(history[-1])
        mixed: dict[str, float] = {}
        for score in parse.ranking:
            mixed[score.name] = mixed.get(score.name, 0.0) + 0.5 * score.confidence
        for score in previous.ranking:
            mixed[score.name] = mixed.get(score.name, 0.0) + 0.5 * score.confidence
        ranking = tuple(IntentScore(n, c) for n, c in sorted(mixed.items(), key=lambda kv: -kv[1]))
        return IntentParse(intent=ranking[0], ranking=ranking)

    def _retrieve(self, text: str, history: list[str], parse: IntentParse, k: int) -> list[Hit]:
        assert self.index is not None
        depth = max(10, 4 * k)
        hits = self.index.search(text, depth)
        if history and len(normalize(text)) <= FOLLOW_UP_MAX_CHARS and parse.intent.confidence < self.settings.suggest.follow_up_confidence:
            # an elliptical follow-up: also search with the previous question folded in
            merged = {h.entry.id: h for h in hits}
            for hit in self.index.search(f"{history[-1]} {text}", depth):
                if hit.entry.id not in merged or merged[hit.entry.id].score < hit.score:
                    merged[hit.entry.id] = hit
            hits = sorted(merged.values(), key=lambda h: -h.score)
        return hits

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
        return [self._render(hit, score) for score, hit in scored[:k]]

    def _render(self, hit: Hit, score: float) -> Reply:
        filled = fill(hit.entry.answer, self.kb.shop)
        return Reply(
            id=hit.entry.id,
            text=filled.text,
            score=round(float(score), 4),
            intent=hit.entry.intent,
            matched_question=hit.matched,
            filled=filled.filled,
        )

    def _abstain(self, intent: IntentScore, ranking: tuple[IntentScore, ...], reason: str) -> Suggestion:
        """No confident reply: say why, and offer the clarifying script if the KB has one."""
        clarify = tuple(
            Reply(e.id, fill(e.answer, self.kb.shop).text, 0.0, e.intent, "", fill(e.answer, self.kb.shop).filled)
            for e in self.kb.approved()
            if CLARIFY_TAG in e.tags
        )
        return Suggestion(intent, ranking, clarify[:1], abstained=True, reason=reason)
