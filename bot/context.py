"""Conversation context as the engine reads it: the buyer's earlier messages and how the agent answered each."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Mapping, Sequence, Union

from bot.normalize import normalize

# A turn is the buyer's text, or a mapping: {"role": "customer" | "agent", "text": ...}, optionally with
# "intent" (the intent of that turn, when the caller knows it) and, on agent turns, "entry_id" (the KB
# entry the agent sent). Without them the engine reads the buyer's intent itself and the dialogue model
# predicts what the agent answered.
Turn = Union[str, Mapping[str, str]]

# What is left of "那这个呢" once these are gone is its topic; if nothing is left, it has none of its own.
_FOLLOW_UP_FILLER = re.compile(
    r"那么|那|还有|然后|另外|也是|也|一样|同样|这个|那个|这款|那款|这件|那件|这种|这一款|这|它|"
    r"呢|吗|嘛|呀|啊|哦|的|了|么|亲|怎么样|咋样|如何|是不是|有没有|[\W_]",
)
_LINK = re.compile(r"https?://\S+|\S+\.(?:com|cn)/\S*", re.IGNORECASE)
# What Taobao's "share" wraps around a link: 【淘宝】, the item title in 「」, the open-the-app hints, tokens.
_SHARE_TEXT = re.compile(
    r"【[^】]*】|「[^」]*」|点击链接直接打开|或者?淘宝搜索直接打开|复制[^，,\s]*打开[^，,\s]*|[￥$€][A-Za-z0-9]+[￥$€]|\b[A-Z]{2}\d{3,4}\b"
)


@dataclass(frozen=True)
class PastTurn:
    """One earlier buyer message and, when the caller knows it, what the agent answered it with."""

    text: str
    intent: str | None = None  # given by the caller; otherwise the engine reads the message
    reply_intent: str | None = None
    reply_entry: str | None = None


def is_bare_follow_up(text: str) -> bool:
    """True for a message with no topic of its own, e.g. "这个呢", "那这款呢", "还有呢"."""
    normalized = normalize(text)
    return bool(normalized) and len(normalized) <= 12 and not _FOLLOW_UP_FILLER.sub("", normalized)


# A reply that asks the buyer for something or promises to come back: an "好的" after it is not goodbye.
_AWAITS_BUYER = re.compile(r"发我|发给我|告诉我|发一下|拍一下|拍几张|稍等|确认后|确认好|核实|有结果|有消息|有进展|答复您|回复您")


def awaits_buyer(answer: str) -> bool:
    """True for a reply that leaves something open: the buyer is to send or wait for something."""
    return bool(_AWAITS_BUYER.search(answer))


def is_link_only(text: str) -> bool:
    """True for a shared product link (a URL or Taobao's 【...】 share text) with no question of its own."""
    rest = _LINK.sub("", text)
    return rest != text and not normalize(_SHARE_TEXT.sub("", rest))


def past_turns(context: Sequence[Turn] | None) -> list[PastTurn]:
    """The buyer's earlier messages, oldest first, each with the agent's answer attached.

    A bare list of texts is the buyer's side of a conversation. Shared links are left out: they carry no question, and a follow-up after one ("这个呢") asks the
    previous question again about the linked item.
    """
    turns: list[PastTurn] = []
    for turn in context or ():
        if isinstance(turn, str):
            if turn.strip() and not is_link_only(turn):
                turns.append(PastTurn(turn.strip()))
            continue
        text = str(turn.get("text") or "").strip()
        if turn.get("role", "customer") == "customer":
            if text and not is_link_only(text):
                turns.append(PastTurn(text, intent=turn.get("intent") or None))
        elif turns:
            last = turns[-1]
            turns[-1] = replace(
                last,
                reply_intent=turn.get("intent") or last.reply_intent,
                reply_entry=turn.get("entry_id") or last.reply_entry,
            )
    return turns


SUGGESTIONS_KEY = "suggestions"  # a bot message carrying this key is action_suggest_replies' output, not a reply


def turns_from_rasa_events(events: Sequence[Mapping[str, object]]) -> tuple[str, list[dict[str, str]]]:
    """(the latest buyer message, the turns before it) from a Rasa tracker's events (current session only).

    The agent's replies reach the tracker as `bot` events (appended by the shop's integration through
    Rasa's tracker events API, with "entry_id" or "intent" in their metadata when known) or as
    `utter_<intent>` actions; the suggestions this project itself sends to the agent are skipped.
    """
    start = max((i for i, e in enumerate(events) if e.get("event") == "session_started"), default=-1)
    turns: list[dict[str, str]] = []
    for event in events[start + 1 :]:
        kind = event.get("event")
        if kind == "user":
            turns.append({"role": "customer", "text": str(event.get("text") or "")})
        elif kind == "bot":
            data = event.get("data") or {}
            custom = data.get("custom") if isinstance(data, Mapping) else None
            if isinstance(custom, Mapping) and SUGGESTIONS_KEY in custom:
                continue
            metadata = event.get("metadata") or {}
            turn = {"role": "agent", "text": str(event.get("text") or "")}
            for key in ("entry_id", "intent"):
                if isinstance(metadata, Mapping) and metadata.get(key):
                    turn[key] = str(metadata[key])
            turns.append(turn)
        elif kind == "action" and str(event.get("name") or "").startswith("utter_"):
            turns.append({"role": "agent", "text": "", "intent": str(event["name"])[len("utter_") :]})
    if not turns or turns[-1]["role"] != "customer":
        return "", turns
    return turns[-1]["text"], turns[:-1]
