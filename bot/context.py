"""A conversation's turns: the one structure every caller builds here (server, eval, CLI, Rasa action) and the engine reads.

A `Conversation` holds the buyer's messages and the agent's replies in order, what each reply answered
(which buyer messages, from which KB entries) and the facts of the buyer's order. Buyers rarely wait for
an answer: several messages in a row are a burst, and a reply may answer some of them; the rest stay
pending (`Conversation.pending`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping, Sequence, Union

from bot.clauses import read_message
from bot.normalize import normalize
from bot.order import Order

CUSTOMER, AGENT = "customer", "agent"
CONTEXT_TURNS = 6  # the messages before a buyer message that the engine reads it with
PENDING_WINDOW = 30  # the latest messages in which unanswered questions are looked for
MAX_PENDING = 8  # the most pending questions listed (the newest)

# What callers may pass as context: a Conversation, or turns as buyer texts or mappings
# {"role": "customer" | "agent", "text": ..., "intent"?, "entry_id"?, "message_id"?, "answers"?: [ids]}.
TurnLike = Union[str, Mapping[str, Any]]
ContextLike = Union["Conversation", Sequence[TurnLike], None]


@dataclass(frozen=True)
class BuyerTurn:
    """One buyer message and, once the agent answered it, how."""

    text: str
    message_id: int | None = None
    intent: str | None = None  # given by the caller (a labelled log); otherwise the engine reads the message
    answered: bool = False
    reply_intent: str | None = None
    reply_entry: str | None = None  # the KB entry the agent's answer came from


@dataclass(frozen=True)
class AgentTurn:
    """One agent reply: the buyer messages it answered and the KB entries it came from (where known)."""

    text: str
    message_id: int | None = None
    answers: tuple[int, ...] = ()
    entries: tuple[str, ...] = ()


Turn = Union[BuyerTurn, AgentTurn]


@dataclass(frozen=True)
class Conversation:
    """The turns so far, oldest first, and the facts of the buyer's order (latest known)."""

    turns: tuple[Turn, ...] = ()
    order: Order | None = None

    @property
    def buyer_turns(self) -> tuple[BuyerTurn, ...]:
        """The buyer's messages, oldest first (shared links left out: they ask nothing of their own)."""
        return tuple(t for t in self.turns if isinstance(t, BuyerTurn))

    def before(self, message_id: int, window: int = CONTEXT_TURNS) -> "Conversation":
        """The conversation as the buyer message `message_id` is read in: the `window` messages before it."""
        earlier = [t for t in self.turns if t.message_id is not None and t.message_id < message_id]
        return replace(self, turns=tuple(earlier[-window:]))

    def latest(self, window: int = CONTEXT_TURNS) -> "Conversation":
        """The conversation as a new message is read in: its last `window` messages."""
        return replace(self, turns=self.turns[-window:])

    def buyer_message(self, message_id: int) -> BuyerTurn | None:
        return next((t for t in self.buyer_turns if t.message_id == message_id), None)

    def pending(self) -> tuple[BuyerTurn, ...]:
        """The buyer's unanswered questions, oldest first (the newest MAX_PENDING).

        A bare "在吗" / "亲" / "好的" in a burst is not a question of its own; when nothing else is waiting and the
        agent has not replied since, the latest such message is (the agent still greets or closes)."""
        waiting = [t for t in self.buyer_turns if not t.answered]
        questions = [t for t in waiting if read_message(t.text).content]
        if questions:
            return tuple(questions[-MAX_PENDING:])
        last_reply = max((i for i, t in enumerate(self.turns) if isinstance(t, AgentTurn)), default=-1)
        return tuple(t for t in self.turns[last_reply + 1 :] if t in waiting)[-1:]

    def answered_by(self, reply: AgentTurn) -> "Conversation":
        """The conversation after this agent reply: the messages it answers marked, each with its entry."""
        return _apply_reply(self, reply, None)


def _apply_reply(conversation: Conversation, reply: AgentTurn, entry_of: Mapping[int, str] | None, intent: str | None = None) -> Conversation:
    """Mark what the agent's reply answered. Named messages (`reply.answers`) get their entry from `entry_of` (or
    the reply's one entry); a reply that names none answers every waiting message, its entry attached to the last."""
    turns = list(conversation.turns)
    buyer = [i for i, t in enumerate(turns) if isinstance(t, BuyerTurn)]
    if reply.answers:
        targets = [i for i in buyer if turns[i].message_id in reply.answers]
    else:
        targets = [i for i in buyer if not turns[i].answered] or buyer[-1:]
    single = reply.entries[0] if len(reply.entries) == 1 else None
    for position in targets:
        turn = turns[position]
        assert isinstance(turn, BuyerTurn)
        if entry_of is not None and turn.message_id in entry_of:
            entry = entry_of[turn.message_id]
        elif reply.answers or position == targets[-1]:
            entry = single
        else:
            entry = None
        last = position == targets[-1]
        turns[position] = replace(
            turn,
            answered=True,
            reply_entry=entry or turn.reply_entry,
            reply_intent=(intent if last else None) or turn.reply_intent,
        )
    return replace(conversation, turns=(*turns, reply))


# -- building a Conversation, for each kind of caller ---------------------------------------------------------


def conversation_of(context: ContextLike, order: Order | None = None) -> Conversation:
    """A Conversation from what a caller holds: one already built, or turns (buyer texts or role mappings, see
    TurnLike). An agent mapping may name the messages it answered ("answers": [message ids]) and, per message, the
    entry ("parts": [{"message_id", "entry_id"}]); without them it answers every waiting message."""
    if isinstance(context, Conversation):
        return context if order is None else replace(context, order=order)
    conversation = Conversation(order=order)
    for turn in context or ():
        if isinstance(turn, str):
            turn = {"role": CUSTOMER, "text": turn}
        text = str(turn.get("text") or "").strip()
        message_id = turn.get("message_id")
        if turn.get("role", CUSTOMER) == CUSTOMER:
            if text and not is_link_only(text):
                buyer = BuyerTurn(text, message_id, intent=turn.get("intent") or None)
                conversation = replace(conversation, turns=(*conversation.turns, buyer))
            continue
        if not conversation.buyer_turns:
            continue
        parts = {int(p["message_id"]): str(p["entry_id"]) for p in turn.get("parts") or () if p.get("entry_id")}
        entries = tuple(dict.fromkeys([*([turn["entry_id"]] if turn.get("entry_id") else []), *parts.values()]))
        reply = AgentTurn(text, message_id, tuple(turn.get("answers") or parts), entries)
        conversation = _apply_reply(conversation, reply, parts or None, intent=turn.get("intent") or None)
    return conversation


def from_messages(messages: Iterable[Any], answered: Mapping[int, str | None], order: Order | None = None) -> Conversation:
    """The conversation as the database holds it: its messages (oldest first; `.id`, `.role`, `.text`) and, for each
    buyer message the agent answered, the entry the answer came from (`answered`: message id -> entry id or None)."""
    turns: list[Turn] = []
    for message in messages:
        if message.role == CUSTOMER:
            if is_link_only(message.text):
                continue
            done = message.id in answered
            turns.append(BuyerTurn(message.text, message.id, answered=done, reply_entry=answered.get(message.id)))
        else:
            turns.append(AgentTurn(message.text, message.id))
    return Conversation(tuple(turns), order)


@dataclass(frozen=True)
class LogStep:
    """One buyer message of a labelled log, replayed: the conversation before it, and, when the agent answers next,
    the conversation just before that answer (the message and any burst before it waiting)."""

    position: int  # the item's place in the log
    before: Conversation
    answering: Conversation | None
    positions: Mapping[int, int]  # message id -> the item's place in the log, for this conversation


def replay_log(items: Sequence[Any]) -> list[LogStep]:
    """Replay a labelled log (`.text`, `.conversation_id`, `.turn`, `.reply_ids`, `.replied`) conversation by
    conversation (by turn, else by file order). After a message the agent answers with its labelled reply, unless the
    log says the buyer wrote again first ("replied": false: a burst, answered together after its last message, each
    message with its own label). Gold intents are never given. Messages without a conversation stand alone."""
    by_conversation: dict[Any, list[tuple[int, int]]] = {}
    for position, item in enumerate(items):
        key = item.conversation_id if item.conversation_id is not None else ("alone", position)
        by_conversation.setdefault(key, []).append((item.turn if item.turn is not None else position, position))
    steps: list[LogStep] = []
    for members in by_conversation.values():
        members.sort()
        positions = {number: position for number, (_, position) in enumerate(members, 1)}
        conversation = Conversation()
        for number, (_, position) in enumerate(members, 1):
            item, before = items[position], conversation
            if not is_link_only(item.text):
                conversation = replace(conversation, turns=(*conversation.turns, BuyerTurn(item.text, number)))
            answering = None
            waiting = [t for t in conversation.buyer_turns if not t.answered]
            if getattr(item, "replied", True) and waiting:
                answering = conversation
                labels = {t.message_id: items[positions[t.message_id]].reply_ids for t in waiting}
                entries = {m: ids[0] for m, ids in labels.items() if ids}
                reply = AgentTurn("", None, tuple(labels), tuple(entries.values()))
                conversation = _apply_reply(conversation, reply, entries)
            steps.append(LogStep(position, before, answering, positions))
    return sorted(steps, key=lambda step: step.position)


def from_log(items: Sequence[Any]) -> list[Conversation]:
    """For each item of a labelled log, the conversation before it (see `replay_log`)."""
    return [step.before for step in replay_log(items)]


SUGGESTIONS_KEY = "suggestions"  # a bot message carrying this key is action_suggest_replies' output, not a reply


def from_rasa_events(events: Sequence[Mapping[str, object]]) -> tuple[str, Conversation]:
    """(the latest buyer message, the conversation before it) from a Rasa tracker's events (current session only).

    The agent's replies reach the tracker as `bot` events (appended by the shop's integration through
    Rasa's tracker events API, with "entry_id" or "intent" in their metadata when known) or as
    `utter_<intent>` actions; the suggestions this project itself sends to the agent are skipped.
    """
    start = max((i for i, e in enumerate(events) if e.get("event") == "session_started"), default=-1)
    turns: list[dict[str, str]] = []
    for event in events[start + 1 :]:
        kind = event.get("event")
        if kind == "user":
            turns.append({"role": CUSTOMER, "text": str(event.get("text") or "")})
        elif kind == "bot":
            data = event.get("data") or {}
            custom = data.get("custom") if isinstance(data, Mapping) else None
            if isinstance(custom, Mapping) and SUGGESTIONS_KEY in custom:
                continue
            metadata = event.get("metadata") or {}
            turn = {"role": AGENT, "text": str(event.get("text") or "")}
            for key in ("entry_id", "intent"):
                if isinstance(metadata, Mapping) and metadata.get(key):
                    turn[key] = str(metadata[key])
            turns.append(turn)
        elif kind == "action" and str(event.get("name") or "").startswith("utter_"):
            turns.append({"role": AGENT, "text": "", "intent": str(event["name"])[len("utter_") :]})
    if not turns or turns[-1]["role"] != CUSTOMER:
        return "", conversation_of(turns)
    return turns[-1]["text"], conversation_of(turns[:-1])


# -- reading single messages in context -----------------------------------------------------------------------

# What is left of "那这个呢" once these are gone is its topic; if nothing is left, it has none of its own.
_FOLLOW_UP_FILLER = re.compile(
    r"那么|那|还有|然后|另外|也是|也|一样|同样|这个|那个|这款|那款|这件|那件|这种|这一款|这|它|"
    r"呢|吗|嘛|呀|啊|哦|的|了|么|亲|怎么样|咋样|如何|是不是|有没有|[\W_]",
)
# A link ends at a space or at the first Chinese character or full-width mark: "…item.htm?id=1这个有货吗" asks something.
# A search link's query is the link's even in Chinese ("?q=连衣裙", "?q=iphone手机壳", "?q=毛呢大衣"), unless it ends in a
# question particle: a buyer who types on after it ("?q=连衣裙有货吗") asks something, as do "?id=1这个有货吗" and
# "&x=这个有货吗". Known limits: a question with no particle typed on after it ("?q=连衣裙多少钱") is read as the link's,
# and a search for 毛呢 alone as a question.
_URL_CHAR = r"[^\s\u3000-\u303f\u3400-\u9fff\uff00-\uffef]"
_URL_END = r"\s&#\u3000-\u303f\uff00-\uffef"  # what ends a search value: a space, the next parameter, CJK punctuation
_SEARCH_VALUE = rf"[^{_URL_END}]+(?<![吗呢么嘛])(?=[{_URL_END}]|$)"
_URL_PART = rf"(?:[?&](?:q|query|keyword|key|kw|wd|search)={_SEARCH_VALUE}|{_URL_CHAR})"
_LINK = re.compile(rf"https?://{_URL_PART}+|{_URL_CHAR}+\.(?:com|cn)/{_URL_PART}*", re.IGNORECASE)
# What Taobao's "share" wraps around a link: 【淘宝】, the item title in 「」, the open-the-app hints, tokens.
_SHARE_TEXT = re.compile(
    r"【[^】]*】|「[^」]*」|点击链接直接打开|或者?淘宝搜索直接打开|复制[^，,\s]*打开[^，,\s]*|[￥$€][A-Za-z0-9]+[￥$€]|\b[A-Z]{2}\d{3,4}\b"
)
# A reply that asks the buyer for something or promises to come back: an "好的" after it is not goodbye.
_AWAITS_BUYER = re.compile(r"发我|发给我|告诉我|发一下|拍一下|拍几张|稍等|确认后|确认好|核实|有结果|有消息|有进展|答复您|回复您")


def is_bare_follow_up(text: str) -> bool:
    """True for a message with no topic of its own, e.g. "这个呢", "那这款呢", "还有呢"."""
    normalized = normalize(text)
    return bool(normalized) and len(normalized) <= 12 and not _FOLLOW_UP_FILLER.sub("", normalized)


def awaits_buyer(answer: str) -> bool:
    """True for a reply that leaves something open: the buyer is to send or wait for something."""
    return bool(_AWAITS_BUYER.search(answer))


def is_link_only(text: str) -> bool:
    """True for a shared product link (a URL or Taobao's 【...】 share text) with no question of its own."""
    rest = _LINK.sub("", text)
    return rest != text and not normalize(_SHARE_TEXT.sub("", rest))
