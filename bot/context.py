"""Conversation context: a bare follow-up ("这个呢", "那这款呢") takes its topic from the buyer's previous message."""

from __future__ import annotations

import re
from typing import Mapping, Sequence, Union

from bot.segment import normalize

Turn = Union[str, Mapping[str, str]]

# What is left of "那这个呢" once these are gone is its topic; if nothing is left, it has none of its own.
_FOLLOW_UP_FILLER = re.compile(
    r"那么|那|还有|然后|另外|也是|也|一样|同样|这个|那个|这款|那款|这件|那件|这种|这一款|这|它|"
    r"呢|吗|嘛|呀|啊|哦|的|了|么|亲|怎么样|咋样|如何|是不是|有没有|[\W_]",
)


def customer_texts(context: Sequence[Turn] | None) -> list[str]:
    """The buyer's earlier messages, oldest first (agent turns are skipped)."""
    texts = []
    for turn in context or ():
        if isinstance(turn, str):
            texts.append(turn)
        elif turn.get("role", "customer") == "customer" and turn.get("text"):
            texts.append(str(turn["text"]))
    return [t for t in texts if t.strip()]


def is_bare_follow_up(text: str) -> bool:
    """True for a message with no topic of its own, e.g. "这个呢", "那这款呢", "还有呢"."""
    normalized = normalize(text)
    return bool(normalized) and len(normalized) <= 12 and not _FOLLOW_UP_FILLER.sub("", normalized)


def resolve(text: str, context: Sequence[Turn] | None) -> tuple[str, str]:
    """(text to classify, text to retrieve with): the message itself, or for a bare follow-up the previous message."""
    history = customer_texts(context)
    if history and is_bare_follow_up(text):
        return history[-1], f"{history[-1]} {text}"
    return text, text
