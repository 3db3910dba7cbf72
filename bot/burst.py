"""A burst of buyer messages: each pending question with its own suggestions, and one combined reply that answers them all."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Callable, Sequence

from bot.context import BuyerTurn, Conversation
from bot.suggestion import Suggestion

# Each part after the first loses its salutation (one greeting at most) and is joined with a transition.
_SALUTATION = re.compile(r"^(?:哈喽亲|亲爱的|亲亲|亲|您好|你好|哈喽)[,，!！~～、\s]*")


def _transition(position: int, count: int) -> str:
    """How part `position` (1: the second) of `count` begins: 另外, then 还有, and 最后 for the last of four or more."""
    if position == 1:
        return "另外,"
    return "最后," if position == count - 1 and count >= 4 else "还有,"


@dataclass(frozen=True)
class PendingQuestion:
    """A buyer message the agent has not answered yet, with the engine's suggestions for it (read in its context)."""

    message_id: int
    text: str
    suggestion: Suggestion

    def to_dict(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "text": self.text, **self.suggestion.to_dict()}


@dataclass(frozen=True)
class Part:
    """One part of the combined reply: a vetted answer and the messages it answers (the first is `message_id`)."""

    message_id: int
    entry_id: str
    text: str
    message_ids: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "message_ids": list(self.message_ids)}


@dataclass(frozen=True)
class Combined:
    """The draft that answers every pending question once, in the buyer's order."""

    text: str
    parts: tuple[Part, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "parts": [p.to_dict() for p in self.parts]}


def pending_questions(conversation: Conversation, suggest: Callable[[BuyerTurn, Conversation], Suggestion]) -> list[PendingQuestion]:
    """The conversation's pending questions, each with `suggest(message, the conversation before it)`."""
    out = []
    for turn in conversation.pending():
        assert turn.message_id is not None
        out.append(PendingQuestion(turn.message_id, turn.text, suggest(turn, conversation.before(turn.message_id))))
    return out


def combine(pending: Sequence[PendingQuestion]) -> Combined | None:
    """One reply for the burst: each question's best suggestion once (two questions with the same answer share a
    part), in the order the buyer asked; the first part keeps its greeting, the others follow with a transition.
    Every word but the transitions is an approved answer as filled for this conversation. None if nothing to say."""
    parts: list[Part] = []
    for question in pending:
        if question.suggestion.abstained or not question.suggestion.suggestions:
            continue
        best = question.suggestion.suggestions[0]
        same = next((i for i, p in enumerate(parts) if p.entry_id == best.id), None)
        if same is not None:
            part = parts[same]
            parts[same] = Part(part.message_id, part.entry_id, part.text, (*part.message_ids, question.message_id))
            continue
        parts.append(Part(question.message_id, best.id, best.text, (question.message_id,)))
    if not parts:
        return None
    lines = [parts[0].text]
    for i, part in enumerate(parts[1:], 1):
        lines.append(_transition(i, len(parts)) + _SALUTATION.sub("", part.text))
    return Combined("\n".join(lines), tuple(parts))


def covered(combined: Combined | None) -> set[int]:
    """The buyer messages a combined reply answers."""
    return {m for part in combined.parts for m in part.message_ids} if combined else set()
