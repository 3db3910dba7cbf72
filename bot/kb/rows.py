"""The KB's rows, written in the caller's transaction: an entry with its questions, its pending edit, its versions."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy.engine import Connection

from bot.db import entries_table, pending_table, questions_table, revisions_table
from bot.kb import Entry
from bot.kb.records import Revision


def _dumps(values: Iterable[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def write_revision(conn: Connection, shop: str, entry: Entry, version: int, action: str, author: str, stamp: datetime, note: str | None = None) -> int:
    """Add this version of the entry to the shop's history (never updated or deleted); returns the version."""
    conn.execute(
        revisions_table.insert().values(
            shop=shop, entry_id=entry.id, version=version, action=action, status=entry.status, intent=entry.intent,
            tags=_dumps(entry.tags), questions=_dumps(entry.questions), answer=entry.answer,
            author=author, created_at=stamp, note=note,
        )
    )
    return version


def write_entry(conn: Connection, shop: str, entry: Entry, version: int, author: str, stamp: datetime, insert: bool) -> None:
    """The entry's current row (a new one when `insert`) and its questions, in order."""
    values = {
        "intent": entry.intent, "status": entry.status, "tags": _dumps(entry.tags), "answer": entry.answer,
        "version": version, "updated_at": stamp, "updated_by": author,
    }
    if insert:
        conn.execute(entries_table.insert().values(shop=shop, id=entry.id, **values))
    else:
        conn.execute(entries_table.update().where(entries_table.c.shop == shop, entries_table.c.id == entry.id).values(**values))
    conn.execute(questions_table.delete().where(questions_table.c.shop == shop, questions_table.c.entry_id == entry.id))
    conn.execute(questions_table.insert(), [{"shop": shop, "entry_id": entry.id, "position": i, "text": q} for i, q in enumerate(entry.questions)])


def write_pending(conn: Connection, shop: str, entry_id: str, draft: Entry | None) -> None:
    """The approved entry's edit waiting for approval (None: it has none)."""
    conn.execute(pending_table.delete().where(pending_table.c.shop == shop, pending_table.c.entry_id == entry_id))
    if draft is not None:
        conn.execute(
            pending_table.insert().values(
                shop=shop, entry_id=entry_id, intent=draft.intent, tags=_dumps(draft.tags), questions=_dumps(draft.questions), answer=draft.answer
            )
        )


def revision_of(row: Any) -> Revision:
    """A row of the history as a Revision."""
    entry = Entry(row.entry_id, row.intent, row.status, tuple(json.loads(row.tags)), tuple(json.loads(row.questions)), row.answer)
    return Revision(row.entry_id, row.version, row.action, row.status, entry, row.author, row.created_at, row.note)
