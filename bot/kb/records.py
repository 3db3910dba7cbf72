"""What the KB store returns to editors: an entry's record (its row, pending edit and state), one saved revision, and
the errors of the editor's workflow (no such entry, a version conflict, an action that does not apply)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.errors import BotError
from bot.kb import Entry


class EntryNotFound(BotError):
    """No entry (or no such version of it) with that id."""


class VersionConflict(BotError):
    """Someone saved the entry since the version this change was based on; nothing was written."""

    def __init__(self, entry_id: str, base_version: int, current: "EntryRecord") -> None:
        self.entry_id = entry_id
        self.base_version = base_version
        self.current = current
        super().__init__(
            f"entry '{entry_id}' was changed by {current.updated_by} (now version {current.version}, "
            f"your change was based on version {base_version}); nothing was saved"
        )


class ImportConflict(BotError):
    """Another editor changed the layer while a whole-KB import was being written; nothing was imported."""


class InvalidTransition(BotError):
    """An action that does not apply to the entry's state (e.g. approving an approved entry)."""


@dataclass(frozen=True)
class EntryRecord:
    """An entry as editors see it: its current row, its pending edit if any, and who changed it last."""

    entry: Entry
    pending: Entry | None
    version: int
    updated_at: datetime
    updated_by: str

    @property
    def head(self) -> Entry:
        """What an editor works on: the pending edit if there is one, else the entry."""
        return self.pending or self.entry

    @property
    def state(self) -> str:
        return "approved, edit pending" if self.pending else self.entry.status

    def to_dict(self) -> dict[str, Any]:
        def content(e: Entry) -> dict[str, Any]:
            return {"intent": e.intent, "tags": list(e.tags), "questions": list(e.questions), "answer": e.answer}

        return {
            "id": self.entry.id,
            "status": self.entry.status,
            "state": self.state,
            "version": self.version,
            "updated_at": self.updated_at.isoformat() + "Z",
            "updated_by": self.updated_by,
            **content(self.entry),
            "pending": content(self.pending) if self.pending else None,
        }


@dataclass(frozen=True)
class Revision:
    """One version of an entry, as it was saved."""

    entry_id: str
    version: int
    action: str
    status: str
    entry: Entry
    author: str
    created_at: datetime
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry_id": self.entry_id,
            "version": self.version,
            "action": self.action,
            "status": self.status,
            "intent": self.entry.intent,
            "tags": list(self.entry.tags),
            "questions": list(self.entry.questions),
            "answer": self.entry.answer,
            "author": self.author,
            "created_at": self.created_at.isoformat() + "Z",
            "note": self.note,
        }
