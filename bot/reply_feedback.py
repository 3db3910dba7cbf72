"""What an agent's reply tells about the suggestions: for each buyer message it answers, the entry the agent picked
(and how much they edited it), the suggestions they passed over, and what was sent after how long a wait."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

from bot.conversations import edit_distance


@dataclass(frozen=True)
class AgentReply:
    """An agent's reply as the request gives it: the text, what it started from, and the messages it answers."""

    text: str
    message_id: int | None
    entry_id: str | None
    rank: int | None
    suggested_text: str | None
    answers: tuple[int, ...]
    parts: dict[int, str]
    agent: str | None = None  # the account that sent it (the dashboard's per-agent figures)

    @property
    def named(self) -> set[int]:
        """The buyer messages the reply names: `answers`, and those of a combined reply's parts."""
        return {*self.answers, *self.parts}

    def answered(self, waiting: Iterable[int]) -> list[int]:
        """The buyer messages this reply answers: those it names, else the one it replies to (`message_id`), else every
        message still `waiting`."""
        answers = list(dict.fromkeys([*self.answers, *self.parts]))
        if not answers and self.message_id is not None:
            answers = [self.message_id]
        return answers or list(waiting)


def feedback_rows(
    conversation_id: str, reply: AgentReply, answers: Sequence[int], read: Sequence[Mapping[str, Any]], arrived: Mapping[int, datetime], sent_at: datetime
) -> list[dict[str, Any]]:
    """The feedback rows of a reply that answers these buyer messages, given the feedback they already have (`read`:
    what was shown and their intents) and when each arrived: picked, edited (with its edit distance), ignored, sent."""
    shown = [r for r in read if r["event"] == "shown"]
    intent_of = {r["message_id"]: r["intent"] for r in read if r["event"] in ("shown", "abstained") and r["intent"]}
    rows: list[dict[str, Any]] = []
    started_from = reply.message_id if reply.message_id is not None else (answers[-1] if answers else None)
    for message_id in answers or [None]:  # the one entry named goes with the message it answers (else the latest)
        entry_id = reply.parts[message_id] if message_id in reply.parts else (reply.entry_id if message_id == started_from else None)
        own_shown = [r for r in shown if r["message_id"] == message_id]
        rank = reply.rank if reply.rank is not None and entry_id == reply.entry_id else next(
            (r["rank"] for r in own_shown if r["entry_id"] == entry_id and entry_id), None)
        base = {"conversation_id": conversation_id, "message_id": message_id, "agent": reply.agent}
        if entry_id:
            rows.append({**base, "event": "picked", "entry_id": entry_id, "rank": rank})
            if reply.suggested_text is not None and reply.suggested_text != reply.text:
                rows.append({**base, "event": "edited", "entry_id": entry_id, "rank": rank, "final_text": reply.text,
                             "edit_distance": edit_distance(reply.suggested_text, reply.text),
                             "suggested_chars": len(reply.suggested_text)})
        rows += [{**base, "event": "ignored", "entry_id": r["entry_id"], "rank": r["rank"]} for r in own_shown if r["entry_id"] != entry_id]
        waited = sent_at - arrived[message_id] if message_id in arrived else None
        rows.append({**base, "event": "sent", "entry_id": entry_id, "rank": rank, "final_text": reply.text, "intent": intent_of.get(message_id),
                     "wait_ms": None if waited is None else max(0, int(waited.total_seconds() * 1000))})
    return rows
