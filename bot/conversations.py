"""Conversations, their messages, and the agents' feedback on suggestions, kept in the database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Collection, Iterable

import sqlalchemy as sa
from rapidfuzz.distance import Levenshtein

from bot.context import CONTEXT_TURNS, PENDING_WINDOW, Conversation, from_messages
from bot.db import (
    connect,
    conversation_orders_table,
    conversations_table,
    feedback_table,
    insert_if_absent,
    messages_table,
    now,
    traffic_reviewed_table,
)
from bot.errors import BotError
from bot.order import Order
from bot.personal import mask_personal
from bot.shops import DEFAULT_SHOP

CONVERSATION_ID = re.compile(r"^[\w.:-]{1,64}\Z")  # \w: letters of any script (小美), digits, _
FEEDBACK_EVENTS = ("shown", "picked", "edited", "sent", "ignored")


@dataclass(frozen=True)
class Message:
    id: int
    conversation_id: str
    role: str
    text: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "role": self.role,
            "text": self.text,
            "created_at": self.created_at.isoformat() + "Z",
        }


class OtherShop(BotError):
    """A message names a shop other than the one its conversation belongs to (a conversation never moves)."""


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance in characters: how much the agent rewrote a suggestion (rapidfuzz, bit-parallel C)."""
    return int(Levenshtein.distance(a, b))


class ConversationStore:
    """Messages in and out, and one feedback row per suggestion shown, picked, edited, sent or ignored."""

    def __init__(self, url: str) -> None:
        self.db = connect(url)

    def add_message(self, conversation_id: str, role: str, text: str, order: Order | None = None, shop: str | None = None) -> Message:
        """Store a message with personal data masked (bot.personal), and the order's facts when given (the latest
        replace the earlier); the Message returned holds what was stored. The first message of a conversation names
        its shop (default: the default shop); a later one naming another shop is refused (OtherShop), nothing stored."""
        with self.db.begin() as conn:
            return self._add_message(conn, conversation_id, role, text, order, shop)

    def add_reply(self, conversation_id: str, text: str, feedback: Callable[[Message], list[dict[str, Any]]]) -> tuple[Message, int]:
        """An agent's reply and the feedback rows it makes (`feedback(the stored reply)`), in one transaction: both are
        stored or neither, so a failing row never leaves a reply that no feedback and no live page knows of."""
        with self.db.begin() as conn:
            message = self._add_message(conn, conversation_id, "agent", text)  # holds the conversation's row until commit
            rows = self._unless_sent(conn, feedback(message))
            self._insert_feedback(conn, rows)
        return message, len(rows)

    @staticmethod
    def _unless_sent(conn: sa.Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows less the "sent" rows of buyer messages an earlier reply already answered: a message is answered
        once, by its first reply (two agents replying at once to the same waiting messages counted them twice). Read
        after the conversation's row is held, so the other reply's rows are committed and seen."""
        asked = {r["message_id"] for r in rows if r["event"] == "sent" and r["message_id"] is not None}
        if not asked:
            return rows
        f = feedback_table.c
        answered = set(conn.execute(sa.select(f.message_id).where(f.event == "sent", f.message_id.in_(asked))).scalars())
        return [r for r in rows if not (r["event"] == "sent" and r["message_id"] in answered)]

    @staticmethod
    def _add_message(conn: sa.Connection, conversation_id: str, role: str, text: str, order: Order | None = None, shop: str | None = None) -> Message:
        text = mask_personal(text)
        created = now()
        # Created unless it exists: a buyer's burst of first messages, received at once, all land in one conversation.
        insert_if_absent(conn, conversations_table, id=conversation_id, shop=shop or DEFAULT_SHOP, created_at=created, updated_at=created)
        held_by = conn.execute(sa.select(conversations_table.c.shop).where(conversations_table.c.id == conversation_id)).scalar_one()
        if shop is not None and shop != held_by:
            raise OtherShop(f"conversation '{conversation_id}' belongs to shop '{held_by}', not '{shop}'")
        conn.execute(conversations_table.update().where(conversations_table.c.id == conversation_id).values(updated_at=created))
        result = conn.execute(messages_table.insert().values(conversation_id=conversation_id, role=role, text=text, created_at=created))
        if order is not None:
            orders = conversation_orders_table
            conn.execute(orders.delete().where(orders.c.conversation_id == conversation_id))
            conn.execute(orders.insert().values(conversation_id=conversation_id, facts=order.to_json(), updated_at=created))
        return Message(int(result.inserted_primary_key[0]), conversation_id, role, text, created)

    def exists(self, conversation_id: str) -> bool:
        with self.db.connect() as conn:
            return (
                conn.execute(sa.select(conversations_table.c.id).where(conversations_table.c.id == conversation_id)).first()
                is not None
            )

    def shop_of(self, conversation_id: str) -> str | None:
        """The shop the conversation belongs to (None: no such conversation)."""
        with self.db.connect() as conn:
            return conn.execute(sa.select(conversations_table.c.shop).where(conversations_table.c.id == conversation_id)).scalar_one_or_none()

    def messages(self, conversation_id: str, limit: int = 200, before: int | None = None) -> list[Message]:
        """The last `limit` messages (before message id `before`, when given), oldest first."""
        query = sa.select(messages_table).where(messages_table.c.conversation_id == conversation_id)
        if before is not None:
            query = query.where(messages_table.c.id < before)
        with self.db.connect() as conn:
            rows = conn.execute(query.order_by(messages_table.c.id.desc()).limit(limit)).all()
        return [Message(r.id, r.conversation_id, r.role, r.text, r.created_at) for r in reversed(rows)]

    def order(self, conversation_id: str) -> Order | None:
        """The latest order facts sent with this conversation's messages, if any."""
        orders = conversation_orders_table
        with self.db.connect() as conn:
            facts = conn.execute(sa.select(orders.c.facts).where(orders.c.conversation_id == conversation_id)).scalar()
        return Order.parse_raw(facts) if facts else None

    def conversation(self, conversation_id: str, limit: int = PENDING_WINDOW) -> Conversation:
        """The conversation's latest `limit` messages as the engine reads them: each buyer message with whether (and
        from which KB entry) the agent answered it, and the order's facts."""
        return self._conversation(conversation_id, self.messages(conversation_id, limit=limit))

    def conversation_around(self, conversation_id: str, message_id: int) -> Conversation:
        """The conversation up to and including message `message_id` (its last CONTEXT_TURNS + 1 messages)."""
        return self._conversation(conversation_id, self.messages(conversation_id, limit=CONTEXT_TURNS + 1, before=message_id + 1))

    def buyer_messages(self, conversation_id: str, message_ids: Iterable[int]) -> dict[int, datetime]:
        """Which of these message ids are buyer messages of this conversation, with when each arrived."""
        ids = list(message_ids)
        if not ids:
            return {}
        query = sa.select(messages_table.c.id, messages_table.c.created_at).where(
            messages_table.c.conversation_id == conversation_id, messages_table.c.role == "customer", messages_table.c.id.in_(ids))
        with self.db.connect() as conn:
            return {int(row.id): row.created_at for row in conn.execute(query)}

    def _conversation(self, conversation_id: str, messages: list[Message]) -> Conversation:
        buyer = [m.id for m in messages if m.role == "customer"]
        query = (
            sa.select(feedback_table.c.message_id, feedback_table.c.entry_id)
            .where(feedback_table.c.event == "sent", feedback_table.c.message_id.in_(buyer))
            .order_by(feedback_table.c.id)
        )
        answered: dict[int, str | None] = {}
        with self.db.connect() as conn:
            for message_id, entry_id in conn.execute(query) if buyer else ():
                answered[message_id] = entry_id or answered.get(message_id)
        return from_messages(messages, answered, self.order(conversation_id))

    @staticmethod
    def _of_shops(query: Any, shops: Collection[str] | None) -> Any:
        return query if shops is None else query.where(conversations_table.c.shop.in_(sorted(shops)))

    def count_conversations(self, shops: Collection[str] | None = None) -> int:
        """How many conversations (of these shops; None: of all)."""
        with self.db.connect() as conn:
            return int(conn.execute(self._of_shops(sa.select(sa.func.count()).select_from(conversations_table), shops)).scalar_one())

    def conversations(self, limit: int = 100, offset: int = 0, shops: Collection[str] | None = None) -> list[dict[str, Any]]:
        """Recent conversations (of these shops; None: of all), newest first, each with its shop and last message."""
        with self.db.connect() as conn:
            rows = conn.execute(
                self._of_shops(sa.select(conversations_table), shops)
                .order_by(conversations_table.c.updated_at.desc(), conversations_table.c.id)
                .limit(limit)
                .offset(offset)
            ).all()
            newest = (  # each listed conversation's newest message, in one query for the page (not one per row)
                sa.select(sa.func.max(messages_table.c.id))
                .where(messages_table.c.conversation_id.in_([row.id for row in rows]))
                .group_by(messages_table.c.conversation_id)
            )
            last = {m.conversation_id: m for m in conn.execute(sa.select(messages_table).where(messages_table.c.id.in_(newest)))} if rows else {}
        return [
            {
                "id": row.id,
                "shop": row.shop,
                "updated_at": row.updated_at.isoformat() + "Z",
                "last_message": Message(m.id, m.conversation_id, m.role, m.text, m.created_at).to_dict() if (m := last.get(row.id)) else None,
            }
            for row in rows
        ]

    def add_feedback(self, rows: list[dict[str, Any]]) -> int:
        """Store feedback rows in one transaction; returns how many were stored (not a second "sent" row of a message)."""
        with self.db.begin() as conn:
            answering = sorted({r["conversation_id"] for r in rows if r["event"] == "sent"})
            if answering:  # hold the conversations' rows, as a reply does, while checking which messages are answered
                c = conversations_table.c
                conn.execute(conversations_table.update().where(c.id.in_(answering)).values(updated_at=c.updated_at))
            rows = self._unless_sent(conn, rows)
            self._insert_feedback(conn, rows)
        return len(rows)

    @staticmethod
    def _insert_feedback(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        created = now()
        columns = [c.name for c in feedback_table.columns if c.name != "id"]
        # every row with every column: an executemany takes its columns from the first row
        full = [{**dict.fromkeys(columns), "created_at": created, **row} for row in rows]
        for row in full:
            if row["final_text"]:
                row["final_text"] = mask_personal(row["final_text"])
        conn.execute(feedback_table.insert(), full)

    def sent_suggestions(self, limit: int = 50_000) -> list[tuple[str, str]]:
        """(buyer message, KB entry) for the latest replies agents sent from a suggestion: what fine-tuning learns from."""
        query = (
            sa.select(messages_table.c.text, feedback_table.c.entry_id)
            .join(messages_table, messages_table.c.id == feedback_table.c.message_id)
            .where(feedback_table.c.event == "sent", feedback_table.c.entry_id.is_not(None), messages_table.c.role == "customer")
            .order_by(feedback_table.c.id.desc())
            .limit(limit)
        )
        with self.db.connect() as conn:
            return [(row.text, row.entry_id) for row in conn.execute(query)]

    def prune(self, days: float, batch: int = 5000) -> dict[str, int]:
        """Delete what is older than `days`: feedback rows, messages, and conversations with nothing newer (the
        retention limit for buyers' messages), `batch` rows per transaction so writers never wait long; returns
        how many of each went."""
        cutoff = now() - timedelta(days=days)
        gone = {"conversations": 0, "messages": 0, "feedback": 0, "orders": 0}
        orders = conversation_orders_table
        for name, table, key, old in (
            ("feedback", feedback_table, feedback_table.c.id, feedback_table.c.created_at < cutoff),
            ("messages", messages_table, messages_table.c.id, messages_table.c.created_at < cutoff),
            ("orders", orders, orders.c.conversation_id, sa.and_(
                orders.c.updated_at < cutoff,
                ~sa.exists().where(messages_table.c.conversation_id == orders.c.conversation_id))),
            ("conversations", conversations_table, conversations_table.c.id, sa.and_(
                conversations_table.c.updated_at < cutoff,
                ~sa.exists().where(messages_table.c.conversation_id == conversations_table.c.id))),
        ):
            while True:
                with self.db.begin() as conn:
                    ids = conn.execute(sa.select(key).where(old).limit(batch)).scalars().all()
                    if not ids:
                        break
                    gone[name] += conn.execute(table.delete().where(key.in_(ids))).rowcount
        with self.db.begin() as conn:
            conn.execute(traffic_reviewed_table.delete().where(
                ~sa.exists().where(messages_table.c.id == traffic_reviewed_table.c.message_id)))
        return gone

    def has_message(self, conversation_id: str, message_id: int) -> bool:
        """True if this message belongs to this conversation."""
        query = sa.select(messages_table.c.id).where(messages_table.c.id == message_id, messages_table.c.conversation_id == conversation_id)
        with self.db.connect() as conn:
            return conn.execute(query).first() is not None

    def feedback(
        self, conversation_id: str | None = None, event: str | None = None, message_ids: Iterable[int] | None = None
    ) -> list[dict[str, Any]]:
        """Feedback rows in order, of one conversation, one event and these messages where given."""
        query = sa.select(feedback_table).order_by(feedback_table.c.id)
        if conversation_id is not None:
            query = query.where(feedback_table.c.conversation_id == conversation_id)
        if event is not None:
            query = query.where(feedback_table.c.event == event)
        if message_ids is not None:
            query = query.where(feedback_table.c.message_id.in_(list(message_ids)))
        with self.db.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query).all()]
