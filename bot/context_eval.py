"""Evaluate follow-up messages in multi-turn conversations, with and without their context."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from bot.context import Conversation, conversation_of
from bot.errors import ConfigError

REPLY_MARK = " => "
# How the conversation so far is given to the engine.
MODES = {
    "none": "no context: the message alone",
    "text": "context: buyer messages and the agent's replies as text",
    "entries": "context: buyer messages and the KB entries the agent sent",
}


@dataclass(frozen=True)
class LabelledConversation:
    """A labelled conversation: turns so far (buyer text, KB entry the agent sent or None), then the message."""

    id: str
    history: tuple[tuple[str, str | None], ...]
    message: str
    intent: str
    replies: tuple[str, ...]


def load_conversations(path: Path) -> list[LabelledConversation]:
    """Read tests/data/context_*.yml; a malformed item is an error naming it."""
    from ruamel.yaml import YAML

    raw = YAML(typ="safe", pure=True).load(Path(path).read_text(encoding="utf-8")) or []
    conversations = []
    for number, item in enumerate(raw, 1):
        where = f"{path}: conversation {number}"
        if not isinstance(item, dict) or not {"history", "message", "intent"} <= item.keys():
            raise ConfigError(f"{where}: needs 'history', 'message' and 'intent'")
        history = []
        for turn in item["history"]:
            text, _, entry = str(turn).partition(REPLY_MARK)
            history.append((text.strip(), entry.strip() or None))
        conversations.append(
            LabelledConversation(
                str(item.get("id") or number),
                tuple(history),
                str(item["message"]),
                str(item["intent"]),
                tuple(item.get("replies") or ()),
            )
        )
    return conversations


def context_of(conversation: LabelledConversation, mode: str, answers: dict[str, str]) -> Conversation | None:
    """The conversation so far as the engine reads it, as `mode` gives it."""
    if mode == "none":
        return None
    turns: list[dict[str, str]] = []
    for text, entry in conversation.history:
        turns.append({"role": "customer", "text": text})
        if entry:
            agent = {"role": "agent", "text": answers.get(entry, "")}
            if mode == "entries":
                agent["entry_id"] = entry
            turns.append(agent)
    return conversation_of(turns)


def run(engine: Any, conversations: Sequence[LabelledConversation], mode: str, k: int = 3) -> dict[str, Any]:
    """Intent accuracy and hit@1/hit@3 of the final messages, plus per-conversation outcomes."""
    if mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    answers = {e.id: e.answer for e in engine.kb.entries}
    outcomes = []
    for conversation in conversations:
        started = time.perf_counter()
        result = engine.suggest(conversation.message, context=context_of(conversation, mode, answers), k=k)
        elapsed = (time.perf_counter() - started) * 1000
        ids = [] if result.abstained else [s.id for s in result.suggestions]
        rank = next((i for i, entry in enumerate(ids, 1) if entry in conversation.replies), None)
        outcomes.append(
            {
                "id": conversation.id,
                "message": conversation.message,
                "gold": conversation.intent,
                "predicted": result.intent.name,
                "correct": result.intent.name == conversation.intent,
                "suggested": ids,
                "rank": rank,
                "ms": round(elapsed, 2),
            }
        )
    n = max(len(outcomes), 1)
    return {
        "mode": mode,
        "n": len(outcomes),
        "intent_accuracy": round(sum(o["correct"] for o in outcomes) / n, 4),
        "hit@1": round(sum(o["rank"] == 1 for o in outcomes) / n, 4),
        "hit@3": round(sum(o["rank"] is not None and o["rank"] <= 3 for o in outcomes) / n, 4),
        "outcomes": outcomes,
    }
