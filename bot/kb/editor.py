"""The knowledge editor's workflow: validate, create, edit, approve, retire, revert, add variants, diff versions.

One code path for the editor pages, the JSON API and the `bot kb` commands. Field problems come back
keyed by field so a form can show them next to the field; service-rule findings are warnings only.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from bot.errors import BotError
from bot.kb import Entry
from bot.kb.records import EntryRecord, InvalidTransition
from bot.kb.store import KBStore
from bot.kb.validate import FieldProblems, check_content, check_id, clean_content
from bot.rules import check_reply, promises_made

if TYPE_CHECKING:
    from bot.index.search import KBIndex
    from bot.settings import Settings

SIMILAR_MIN_SCORE = 0.8  # fused retrieval score above which an existing entry counts as a near-duplicate
SIMILAR_LIMIT = 5
SIMILAR_MAX_QUESTIONS = 20  # a review searches near-duplicates of this many of the form's questions at most


class FieldErrors(BotError):
    """An entry that cannot be saved as given; `problems` maps each field to its messages."""

    def __init__(self, problems: FieldProblems) -> None:
        self.problems = problems
        summary = "; ".join(f"{name}: {' / '.join(messages)}" for name, messages in problems.items())
        super().__init__(f"entry not saved: {summary}")


class NearDuplicates(BotError):
    """A new entry whose questions are close to existing entries: add them as variants, or confirm."""

    def __init__(self, matches: list[dict[str, Any]]) -> None:
        self.matches = matches
        names = ", ".join(sorted({m["id"] for m in matches}))
        super().__init__(f"similar entries exist ({names}): add the question as a variant of one, or create anyway")


@dataclass(frozen=True)
class Review:
    """What a form shows next to its fields before saving."""

    errors: FieldProblems = field(default_factory=dict)
    warnings: list[dict[str, str]] = field(default_factory=list)
    taken: dict[str, str] = field(default_factory=dict)  # questions refused as another entry's: no need to search them

    def to_dict(self) -> dict[str, Any]:
        return {"errors": self.errors, "warnings": self.warnings, "ok": not self.errors}


def entry_text(entry: Entry) -> list[str]:
    """An entry as lines of text, the form its versions are compared in."""
    lines = [f"intent: {entry.intent}", f"status: {entry.status}", f"tags: {', '.join(entry.tags)}", "questions:"]
    lines += [f"  - {q}" for q in entry.questions]
    lines += ["answer:"] + [f"  {line}" for line in entry.answer.splitlines()]
    return lines


class KBEditor:
    """Editor operations over one store; `index` gives the live index for near-duplicate search."""

    def __init__(self, store: KBStore, intents: Iterable[str], index: "Callable[[], KBIndex | None]" = lambda: None) -> None:
        self.store = store
        self.intents = tuple(intents)
        self._index = index

    # -- reading --------------------------------------------------------------------------------

    def list(self, intent: str | None = None, tag: str | None = None, status: str | None = None, search: str | None = None) -> list[EntryRecord]:
        """Entries matching every filter given; status 'pending' means approved with an edit waiting."""
        needle = (search or "").strip().lower()
        found = []
        for record in self.store.records():
            head = record.head
            if intent and intent not in (record.entry.intent, head.intent):
                continue
            if tag and tag not in record.entry.tags + head.tags:
                continue
            if status == "pending" and record.pending is None:
                continue
            if status and status != "pending" and record.entry.status != status:
                continue
            if needle and not any(needle in text.lower() for text in (record.entry.id, head.answer, *head.questions, *head.tags)):
                continue
            found.append(record)
        return found

    def get(self, entry_id: str) -> EntryRecord:
        return self.store._must(entry_id)

    def diff(self, entry_id: str, version: int, against: int | None = None) -> dict[str, Any]:
        """Unified diff of a version against another (default: the version before it)."""
        new = self.store.revision(entry_id, version)
        base = against if against is not None else version - 1
        old_lines = entry_text(self.store.revision(entry_id, base).entry) if base >= 1 else []
        lines = list(
            difflib.unified_diff(old_lines, entry_text(new.entry), f"version {base}" if base >= 1 else "(new)", f"version {version}", lineterm="", n=99)
        )
        return {"entry_id": entry_id, "version": version, "against": base if base >= 1 else None, "revision": new.to_dict(), "diff": lines}

    # -- checking -------------------------------------------------------------------------------

    def review(self, data: Mapping[str, Any], entry_id: str | None = None) -> Review:
        """Field errors (blocking) and service-rule warnings (advisory) for entry content about to be saved."""
        shop = self.store.shop()
        errors = check_content(data, self.intents, shop)
        taken: dict[str, str] = {}
        if "questions" not in errors:
            taken = {q: owner for q, owner in self.store.question_owners([q.strip() for q in data["questions"]]).items() if owner != entry_id}
            if taken:
                errors["questions"] = [f"'{q}' is already a question of '{owner}'" for q, owner in taken.items()]
        warnings: list[dict[str, str]] = []
        answer = data.get("answer")
        if isinstance(answer, str) and answer.strip():
            index = self._index()  # the live entries in memory; the database only when there is no index
            live = index.live_entries() if index is not None else self.store.approved().entries
            approved = [e.answer for e in live if e.id != entry_id]
            warnings = [{"field": "answer", "rule": w.rule, "message": w.message} for w in check_reply(answer, promises_made(approved) if approved else None)]
        return Review(errors, warnings, taken)

    def similar(self, questions: Iterable[str], exclude: str | None = None, min_score: float = SIMILAR_MIN_SCORE) -> list[dict[str, Any]]:
        """Live entries whose questions are close in meaning to any of these (best match per entry, best first)."""
        index = self._index()
        if index is None:
            return []
        best: dict[str, dict[str, Any]] = {}
        for question in list(dict.fromkeys(q.strip() for q in questions if q.strip()))[:SIMILAR_MAX_QUESTIONS]:
            for hit in index.search(question, SIMILAR_LIMIT):
                if hit.entry.id == exclude or hit.score < min_score:
                    continue
                if hit.entry.id not in best or hit.score > best[hit.entry.id]["score"]:
                    best[hit.entry.id] = {
                        "id": hit.entry.id, "intent": hit.entry.intent, "question": question, "matched": hit.matched,
                        "score": round(hit.score, 4), "answer": hit.entry.answer, "questions": list(hit.entry.questions),
                    }
        return sorted(best.values(), key=lambda m: -m["score"])[:SIMILAR_LIMIT]

    def _content(self, data: Mapping[str, Any], entry_id: str | None) -> Entry:
        review = self.review(data, entry_id)
        if review.errors:
            raise FieldErrors(review.errors)
        return Entry(id=entry_id or "", status="draft", **clean_content(data))

    # -- writing --------------------------------------------------------------------------------

    def new_id(self, intent: str) -> str:
        taken = self.store.ids_starting(f"{intent}.new")
        n = 1
        while f"{intent}.new{n}" in taken:
            n += 1
        return f"{intent}.new{n}"

    def create(self, data: Mapping[str, Any], author: str, allow_similar: bool = False) -> EntryRecord:
        """A new draft entry; refused with NearDuplicates when close entries exist and allow_similar is not set."""
        entry_id = data.get("id") or None
        if entry_id is not None:
            problems = check_id(entry_id)
            if problems:
                raise FieldErrors({"id": problems})
        content = self._content(data, None)
        if not allow_similar:
            matches = self.similar(content.questions)
            if matches:
                raise NearDuplicates(matches)
        if entry_id is not None:
            if self.store.record(entry_id) is not None:
                raise FieldErrors({"id": [f"an entry with id '{entry_id}' already exists"]})
            return self.store.create(replace(content, id=entry_id), author)
        for _ in range(20):  # a generated id: two editors creating at once may pick the same one; the loser takes the next
            try:
                return self.store.create(replace(content, id=self.new_id(content.intent)), author)
            except InvalidTransition:
                continue
        raise FieldErrors({"id": ["could not find a free id: give one"]})

    def edit(self, entry_id: str, data: Mapping[str, Any], base_version: int, author: str) -> EntryRecord:
        """New content for an entry, saved as a draft (an approved entry stays live until this is approved)."""
        content = self._content(data, entry_id)
        record = self.get(entry_id)
        if _same(content, record.head) and record.version == base_version:
            raise InvalidTransition("nothing changed: the entry already has this content")
        return self.store.edit(entry_id, content, base_version, author)

    def approve(self, entry_id: str, base_version: int, author: str) -> EntryRecord:
        record = self.get(entry_id)
        review = self.review(_as_data(record.head), entry_id)
        if review.errors:  # e.g. a shop variable removed since the draft was saved
            raise FieldErrors(review.errors)
        return self.store.approve(entry_id, base_version, author)

    def retire(self, entry_id: str, base_version: int, author: str) -> EntryRecord:
        return self.store.retire(entry_id, base_version, author)

    def discard(self, entry_id: str, base_version: int, author: str) -> EntryRecord:
        return self.store.discard(entry_id, base_version, author)

    def revert(self, entry_id: str, to_version: int, base_version: int, author: str) -> EntryRecord:
        """Bring back an earlier version's content as a draft to approve (history keeps everything)."""
        old = self.store.revision(entry_id, to_version).entry
        content = self._content(_as_data(old), entry_id)
        return self.store.edit(entry_id, content, base_version, author, action="revert", note=f"back to version {to_version}")

    def add_variants(self, entry_id: str, questions: Iterable[str], base_version: int, author: str, approve: bool = False) -> EntryRecord:
        """Add customer phrasings to an entry's questions; with approve, they go live at once."""
        record = self.get(entry_id)
        head = record.head
        new = [q.strip() for q in questions if q.strip() and q.strip() not in head.questions]
        if not new:
            raise InvalidTransition(f"entry '{entry_id}' already has these questions")
        data = {**_as_data(head), "questions": list(head.questions) + new}
        record = self.edit(entry_id, data, base_version, author)
        if approve:
            record = self.approve(entry_id, record.version, author)
        return record


def open_editor(settings: "Settings", with_index: bool = False, store: KBStore | None = None) -> KBEditor:
    """An editor over the configured database (the default shop's layer unless a store is given); with_index loads
    the shop's live index for near-duplicate checks."""
    from bot.intents import load_intents

    store = store or KBStore(settings.db_url)
    index = None
    if with_index:
        from bot.encoder import encoder_for
        from bot.index.storage import index_for

        index, _ = index_for(settings, store.approved(), encoder_for(settings))
    return KBEditor(store, load_intents(settings.project_dir), lambda: index)


def _as_data(entry: Entry) -> dict[str, Any]:
    return {"intent": entry.intent, "tags": list(entry.tags), "questions": list(entry.questions), "answer": entry.answer}


def _same(a: Entry, b: Entry) -> bool:
    return (a.intent, a.tags, a.questions, a.answer) == (b.intent, b.tags, b.questions, b.answer)
