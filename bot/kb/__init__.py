"""The knowledge base: vetted canned replies (entries) and the shop profile that fills them."""

from __future__ import annotations

from dataclasses import dataclass, field

STATUSES = ("approved", "draft", "retired")  # only approved entries are suggested


@dataclass(frozen=True)
class Entry:
    """One vetted reply: the phrasings customers use and the approved answer."""

    id: str
    intent: str
    status: str
    tags: tuple[str, ...]
    questions: tuple[str, ...]
    answer: str

    @property
    def approved(self) -> bool:
        return self.status == "approved"


@dataclass(frozen=True)
class KBContent:
    """A whole knowledge base: the shop profile and every entry, sorted by id."""

    shop: dict[str, str] = field(default_factory=dict)
    entries: tuple[Entry, ...] = ()
    pending: tuple[Entry, ...] = ()  # edits of approved entries awaiting approval (status draft, same id)

    def approved(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.approved)

    def pending_for(self, entry_id: str) -> Entry | None:
        return next((p for p in self.pending if p.id == entry_id), None)
