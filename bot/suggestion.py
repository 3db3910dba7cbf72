"""What the engine returns for one buyer message: the filled replies, the intent, and how the context shaped them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from bot.kb import Entry
from bot.kb.template import fill
from bot.nlu import IntentScore
from bot.textcheck import check_text


@dataclass(frozen=True)
class Reply:
    """One suggested reply, ready for the agent's reply box."""

    id: str
    text: str
    score: float
    intent: str
    matched_question: str
    filled: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, entry: Entry, score: float, matched: str, facts: Mapping[str, str]) -> "Reply":
        """The entry's answer filled with the shop's (and the order's) facts."""
        filled = fill(entry.answer, facts)
        return cls(entry.id, filled.text, round(float(score), 4), entry.intent, matched, filled.filled)


@dataclass(frozen=True)
class ContextReading:
    """How the conversation so far shaped a suggestion (absent for a message with no context)."""

    message_intent: str  # the message on its own: a topic, or a contextual "affirm" / "follow_up"
    next_reply: IntentScore | None  # the dialogue model's most likely next reply (None: no dialogue model)
    policy: str | None  # the Rasa policy that made that prediction
    topic: str | None  # for a follow-up: the earlier message whose topic it takes


@dataclass(frozen=True)
class Suggestion:
    """What the agent sees beside the chat for one buyer message."""

    intent: IntentScore
    intent_ranking: tuple[IntentScore, ...]
    suggestions: tuple[Reply, ...]
    abstained: bool
    reason: str | None = None
    context: ContextReading | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "intent": asdict(self.intent),
            "intent_ranking": [asdict(s) for s in self.intent_ranking],
            "suggestions": [asdict(r) for r in self.suggestions],
            "abstained": self.abstained,
            "reason": self.reason,
            "context": asdict(self.context) if self.context else None,
        }


def check_message(text: object, max_chars: int) -> str:
    """The message as text, or a MessageError that says what is wrong with it."""
    return check_text(text, "message", max_chars)
