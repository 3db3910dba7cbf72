"""The knowledge base at run time: one class owns the database (SQLite by default, or any SQLAlchemy URL).

A store is scoped to one shop's layer (bot.shops): it reads and writes that layer's rows, and what agents are suggested
(`approved`, `live`) is the common layer overlaid by the shop's own. Each entry row holds its current version: live when approved. An edit of an approved entry waits in
kb_pending, so the approved version stays live until the edit is approved. Every version goes to
kb_revisions, and every change to what agents are suggested goes to kb_changes, which engines poll.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any, Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.db import (
    changes_table,
    connect,
    entries_table,
    log_kb_change,
    meta_table,
    now,
    pending_table,
    questions_table,
    revisions_table,
    shop_table,
)
from bot.kb import Entry, KBContent
from bot.kb.records import (
    EntryNotFound,
    EntryRecord,
    ImportConflict,
    InvalidTransition,
    Revision,
    VersionConflict,
)
from bot.kb.rows import revision_of, write_entry, write_pending, write_revision
from bot.shops import COMMON, DEFAULT_SHOP, register

DEADLOCK = "40P01"  # PostgreSQL's error codes: a deadlock it broke by failing one transaction,
UNIQUE_VIOLATION = "23505"  # and a key another transaction committed first (SQLite's one writer has neither race)


def _same_content(a: Entry | None, b: Entry | None) -> bool:
    if a is None or b is None:
        return a is b
    return (a.intent, a.tags, a.questions, a.answer, a.status) == (b.intent, b.tags, b.questions, b.answer, b.status)


class KBStore:
    """All reads and writes of one shop's layer of the knowledge base; every write is one transaction."""

    def __init__(self, url: str, shop: str = DEFAULT_SHOP, db: Engine | None = None) -> None:
        self.url = url
        self.db = db or connect(url)
        self.shop_name = shop

    def for_shop(self, shop: str) -> "KBStore":
        """The same database scoped to another shop's layer (or the common layer), sharing the connection pool."""
        return KBStore(self.url, shop, self.db)

    @property
    def layers(self) -> tuple[str, ...]:
        """The layers this shop's agents are suggested from: the common layer, then its own."""
        return (self.shop_name,) if self.shop_name == COMMON else (COMMON, self.shop_name)

    def _own(self, table: sa.Table) -> Any:
        return table.c.shop == self.shop_name

    @property
    def safe_url(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    # -- bookkeeping ----------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self.db.connect() as conn:
            return conn.execute(sa.select(meta_table.c.value).where(meta_table.c.key == key)).scalar_one_or_none()

    def set_meta(self, meta: dict[str, str]) -> None:
        with self.db.begin() as conn:
            self._set_meta(conn, meta)

    def revision_count(self) -> int:
        """How many versions the history holds (grows with every save)."""
        with self.db.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(revisions_table).where(self._own(revisions_table))).scalar_one())

    @staticmethod
    def _set_meta(conn: Connection, meta: dict[str, str]) -> None:
        for key, value in meta.items():
            conn.execute(meta_table.delete().where(meta_table.c.key == key))
            conn.execute(meta_table.insert().values(key=key, value=value))

    def _log_change(self, conn: Connection, entry_id: str | None) -> None:
        log_kb_change(conn, self.shop_name, entry_id)

    def last_change(self) -> int:
        """The sequence number of the latest change to what this shop's agents are suggested (0: none yet)."""
        with self.db.connect() as conn:
            return int(conn.execute(sa.select(sa.func.max(changes_table.c.seq)).where(changes_table.c.shop.in_(self.layers))).scalar_one() or 0)

    def changes_since(self, seq: int) -> tuple[int, set[str] | None]:
        """(latest seq, ids of entries whose live version changed after seq, in either layer); None means reload everything."""
        with self.db.connect() as conn:
            rows = conn.execute(
                sa.select(changes_table.c.seq, changes_table.c.entry_id)
                .where(changes_table.c.seq > seq, changes_table.c.shop.in_(self.layers))
                .order_by(changes_table.c.seq)
            ).all()
        if not rows:
            return seq, set()
        ids = {r.entry_id for r in rows}
        return int(rows[-1].seq), (None if None in ids else {i for i in ids if i is not None})

    # -- whole-KB import ------------------------------------------------------------------------

    def replace_all(self, content: KBContent, meta: dict[str, str] | None = None, author: str = "import") -> None:
        """Make this shop's layer hold exactly this KB (all or nothing); its entries missing from it are retired.

        Changed entries get a new version in the history (action "import"); unchanged ones are untouched. The layer's
        entries are locked first, in id order, so edits wait for the import or it for them; an entry created meanwhile
        with an id the import adds is an ImportConflict (try again), as is a deadlock the database broke.
        """
        try:
            self._replace_all(content, meta or {}, author)
        except (IntegrityError, OperationalError) as exc:
            code = getattr(exc.orig, "pgcode", None)
            if code == UNIQUE_VIOLATION:
                raise ImportConflict("an editor created one of the imported entries meanwhile; nothing was imported, try again") from exc
            if code == DEADLOCK:
                raise ImportConflict("an editor changed the KB while it was being imported; nothing was imported, try again") from exc
            raise

    def _replace_all(self, content: KBContent, meta: dict[str, str], author: str) -> None:
        stamp = now()
        with self.db.begin() as conn:
            conn.execute(sa.select(entries_table.c.id).where(self._own(entries_table)).order_by(entries_table.c.id).with_for_update())
            self._set_meta(conn, meta)
            register(conn, self.shop_name)
            conn.execute(shop_table.delete().where(self._own(shop_table)))
            if content.shop:
                conn.execute(
                    shop_table.insert(),
                    [{"shop": self.shop_name, "key": k, "position": i, "value": v} for i, (k, v) in enumerate(content.shop.items())],
                )
            current = {r.entry.id: r for r in self._records(conn)}
            drafts = {d.id: d for d in content.pending}
            incoming = {e.id: e for e in content.entries}
            for entry in content.entries:
                record = current.get(entry.id)
                draft = drafts.get(entry.id)
                if record is not None and _same_content(record.entry, entry) and _same_content(record.pending, draft):
                    continue
                version = record.version if record else 0
                version = write_revision(conn, self.shop_name, entry, version + 1, "import", author, stamp)
                if draft is not None:
                    version = write_revision(conn, self.shop_name, draft, version + 1, "import", author, stamp)
                write_entry(conn, self.shop_name, entry, version, author, stamp, insert=record is None)
                write_pending(conn, self.shop_name, entry.id, draft)
            for entry_id, record in current.items():
                if entry_id not in incoming and record.entry.status != "retired":
                    retired = replace(record.entry, status="retired")
                    version = write_revision(conn, self.shop_name, retired, record.version + 1, "import", author, stamp, note="not in the imported KB")
                    write_entry(conn, self.shop_name, retired, version, author, stamp, insert=False)
                    write_pending(conn, self.shop_name, entry_id, None)
            self._log_change(conn, None)

    # -- reads ----------------------------------------------------------------------------------

    def _records(self, conn: Connection, where: Any = None, shop: str | None = None) -> list[EntryRecord]:
        """The rows of one layer (this shop's unless named) that match `where`, with their questions and pending edits."""
        layer = self.shop_name if shop is None else shop
        query = sa.select(entries_table).where(entries_table.c.shop == layer).order_by(entries_table.c.id)
        q_query = sa.select(questions_table).where(questions_table.c.shop == layer).order_by(questions_table.c.entry_id, questions_table.c.position)
        p_query = sa.select(pending_table).where(pending_table.c.shop == layer)
        if where is not None:
            query = query.where(where)
            ids = sa.select(entries_table.c.id).where(where, entries_table.c.shop == layer)
            q_query = q_query.where(questions_table.c.entry_id.in_(ids))
            p_query = p_query.where(pending_table.c.entry_id.in_(ids))
        rows = conn.execute(query).all()
        questions: dict[str, list[str]] = {}
        for row in conn.execute(q_query).all():
            questions.setdefault(row.entry_id, []).append(row.text)
        pending = {
            row.entry_id: Entry(row.entry_id, row.intent, "draft", tuple(json.loads(row.tags)), tuple(json.loads(row.questions)), row.answer)
            for row in conn.execute(p_query).all()
        }
        return [
            EntryRecord(
                entry=Entry(row.id, row.intent, row.status, tuple(json.loads(row.tags)), tuple(questions.get(row.id, ())), row.answer),
                pending=pending.get(row.id),
                version=row.version,
                updated_at=row.updated_at,
                updated_by=row.updated_by,
            )
            for row in rows
        ]

    def _profile(self, conn: Connection, shop: str) -> dict[str, str]:
        query = sa.select(shop_table).where(shop_table.c.shop == shop).order_by(shop_table.c.position)
        return {r.key: r.value for r in conn.execute(query).all()}

    def _shop(self, conn: Connection) -> dict[str, str]:
        """The profile that fills this shop's answers: the common layer's values, overridden by the shop's own."""
        profile: dict[str, str] = {}
        for layer in self.layers:
            profile.update(self._profile(conn, layer))
        return profile

    def load(self, status: str | None = None) -> KBContent:
        """This shop's own layer (or only its entries of one status) with pending edits and its own profile, by id."""
        with self.db.connect() as conn:
            where = entries_table.c.status == status if status is not None else None
            records = self._records(conn, where)
            shop = self._profile(conn, self.shop_name)
        return KBContent(
            shop=shop,
            entries=tuple(r.entry for r in records),
            pending=tuple(r.pending for r in records if r.pending is not None),
        )

    def _live(self, conn: Connection, where: Any = None) -> list[Entry]:
        """The approved entries this shop's agents are suggested: its own, and the common layer's that it neither
        overrides (its own approved row of that id) nor withdraws (its own retired row); a draft of its own waits."""
        approved = entries_table.c.status == "approved"
        own = self._records(conn, approved if where is None else sa.and_(approved, where))
        if self.shop_name == COMMON:
            return [r.entry for r in own]
        mine = entries_table.alias("mine")  # an alias: the subquery must not correlate with the rows it filters
        decided = sa.select(mine.c.id).where(mine.c.shop == self.shop_name, mine.c.status.in_(("approved", "retired")))
        inherited = self._records(conn, sa.and_(approved, entries_table.c.id.not_in(decided), *(() if where is None else (where,))), shop=COMMON)
        return sorted([r.entry for r in own] + [r.entry for r in inherited], key=lambda e: e.id)

    def approved(self) -> KBContent:
        """What this shop's agents are suggested: the live entries of both layers and the profile that fills them."""
        with self.db.connect() as conn:
            return KBContent(shop=self._shop(conn), entries=tuple(self._live(conn)))

    def live(self, entry_ids: Iterable[str]) -> dict[str, Entry]:
        """The live versions of these entries for this shop (ids not live here are left out)."""
        ids = list(entry_ids)
        if not ids:
            return {}
        with self.db.connect() as conn:
            return {e.id: e for e in self._live(conn, entries_table.c.id.in_(ids))}

    def shop(self) -> dict[str, str]:
        with self.db.connect() as conn:
            return self._shop(conn)

    def own_profile(self) -> dict[str, str]:
        """This layer's own profile, without the common layer's values (what `load().shop` holds, without the entries)."""
        with self.db.connect() as conn:
            return self._profile(conn, self.shop_name)

    def get(self, entry_id: str) -> Entry | None:
        record = self.record(entry_id)
        return record.entry if record else None

    def record(self, entry_id: str) -> EntryRecord | None:
        with self.db.connect() as conn:
            found = self._records(conn, entries_table.c.id == entry_id)
        return found[0] if found else None

    def records(self) -> list[EntryRecord]:
        with self.db.connect() as conn:
            return self._records(conn)

    def ids_starting(self, prefix: str) -> set[str]:
        """The entry ids in this shop's layers that start with `prefix` (an index range scan, not a read of every entry)."""
        query = sa.select(entries_table.c.id).where(entries_table.c.shop.in_(self.layers), entries_table.c.id.startswith(prefix, autoescape=True))
        with self.db.connect() as conn:
            return set(conn.execute(query).scalars())

    def count(self) -> int:
        with self.db.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(entries_table).where(self._own(entries_table))).scalar_one())

    def history(self, entry_id: str) -> list[Revision]:
        """Every version of an entry, oldest first."""
        with self.db.connect() as conn:
            rows = conn.execute(
                sa.select(revisions_table).where(self._own(revisions_table), revisions_table.c.entry_id == entry_id).order_by(revisions_table.c.version)
            ).all()
        return [revision_of(row) for row in rows]

    def history_page(self, entry_id: str, limit: int, before: int | None = None) -> tuple[list[Revision], int | None, int]:
        """Up to `limit` of an entry's versions older than version `before` (None: from the newest), newest first; the
        `before` of the next page (None: no older one); how many versions it has. Paged by version, so a version saved
        meanwhile shifts nothing; read in one go, so the three agree."""
        own = sa.and_(self._own(revisions_table), revisions_table.c.entry_id == entry_id)
        older = own if before is None else sa.and_(own, revisions_table.c.version < before)
        with self.db.connect() as conn:
            rows = conn.execute(sa.select(revisions_table).where(older).order_by(revisions_table.c.version.desc()).limit(limit + 1)).all()
            total = int(conn.execute(sa.select(sa.func.count()).select_from(revisions_table).where(own)).scalar_one())
        page = [revision_of(row) for row in rows[:limit]]
        return page, (page[-1].version if len(rows) > limit else None), total

    def revision(self, entry_id: str, version: int) -> Revision:
        with self.db.connect() as conn:
            row = conn.execute(
                sa.select(revisions_table).where(self._own(revisions_table), revisions_table.c.entry_id == entry_id, revisions_table.c.version == version)
            ).first()
        if row is None:
            raise EntryNotFound(f"entry '{entry_id}' has no version {version}")
        return revision_of(row)

    # -- writes ---------------------------------------------------------------------------------

    def _locked(self, conn: Connection, entry_id: str, base_version: int) -> EntryRecord:
        """The entry, claimed for this transaction at base_version, or VersionConflict / EntryNotFound."""
        claimed = conn.execute(
            entries_table.update()
            .where(self._own(entries_table), entries_table.c.id == entry_id, entries_table.c.version == base_version)
            .values(version=entries_table.c.version)  # takes the row lock (PostgreSQL) / write lock (SQLite)
        ).rowcount
        found = self._records(conn, entries_table.c.id == entry_id)
        if not found:
            raise EntryNotFound(f"no entry '{entry_id}'")
        if claimed != 1:
            raise VersionConflict(entry_id, base_version, found[0])
        return found[0]

    def create(self, entry: Entry, author: str) -> EntryRecord:
        """A new entry, saved as a draft (version 1)."""
        stamp = now()
        draft = replace(entry, status="draft")
        try:
            with self.db.begin() as conn:
                if conn.execute(sa.select(entries_table.c.id).where(self._own(entries_table), entries_table.c.id == entry.id)).first():
                    raise InvalidTransition(f"an entry with id '{entry.id}' already exists")
                write_revision(conn, self.shop_name, draft, 1, "create", author, stamp)
                write_entry(conn, self.shop_name, draft, 1, author, stamp, insert=True)
        except IntegrityError as exc:  # another writer created the same id between our check and our insert
            raise InvalidTransition(f"an entry with id '{entry.id}' already exists") from exc
        record = self.record(entry.id)
        assert record is not None
        return record

    def edit(self, entry_id: str, content: Entry, base_version: int, author: str, action: str = "edit", note: str | None = None) -> EntryRecord:
        """Save new content as a draft: in place for a draft or retired entry, as a pending edit for an approved one."""
        stamp = now()
        with self.db.begin() as conn:
            record = self._locked(conn, entry_id, base_version)
            draft = replace(content, id=entry_id, status="draft")
            version = write_revision(conn, self.shop_name, draft, record.version + 1, action, author, stamp, note)
            if record.entry.status == "approved":
                write_pending(conn, self.shop_name, entry_id, draft)
                self._touch(conn, entry_id, version, author, stamp)
            else:
                write_entry(conn, self.shop_name, draft, version, author, stamp, insert=False)
        return self._must(entry_id)

    def approve(self, entry_id: str, base_version: int, author: str) -> EntryRecord:
        """Make the entry's current draft (or pending edit) the live version."""
        stamp = now()
        with self.db.begin() as conn:
            record = self._locked(conn, entry_id, base_version)
            if record.pending is None and record.entry.status == "approved":
                raise InvalidTransition(f"entry '{entry_id}' is already approved and has no pending edit")
            live = replace(record.head, status="approved")
            version = write_revision(conn, self.shop_name, live, record.version + 1, "approve", author, stamp)
            write_entry(conn, self.shop_name, live, version, author, stamp, insert=False)
            write_pending(conn, self.shop_name, entry_id, None)
            self._log_change(conn, entry_id)
        return self._must(entry_id)

    def retire(self, entry_id: str, base_version: int, author: str) -> EntryRecord:
        """Stop suggesting the entry (kept with its history; an edit and approval bring it back)."""
        stamp = now()
        with self.db.begin() as conn:
            record = self._locked(conn, entry_id, base_version)
            if record.entry.status == "retired":
                raise InvalidTransition(f"entry '{entry_id}' is already retired")
            retired = replace(record.entry, status="retired")
            version = write_revision(conn, self.shop_name, retired, record.version + 1, "retire", author, stamp)
            write_entry(conn, self.shop_name, retired, version, author, stamp, insert=False)
            write_pending(conn, self.shop_name, entry_id, None)
            self._log_change(conn, entry_id)
        return self._must(entry_id)

    def discard(self, entry_id: str, base_version: int, author: str) -> EntryRecord:
        """Drop an approved entry's pending edit; the approved version stays as it is."""
        stamp = now()
        with self.db.begin() as conn:
            record = self._locked(conn, entry_id, base_version)
            if record.pending is None:
                raise InvalidTransition(f"entry '{entry_id}' has no pending edit to discard")
            version = write_revision(conn, self.shop_name, record.entry, record.version + 1, "discard", author, stamp)
            write_pending(conn, self.shop_name, entry_id, None)
            self._touch(conn, entry_id, version, author, stamp)
        return self._must(entry_id)

    def _touch(self, conn: Connection, entry_id: str, version: int, author: str, stamp: datetime) -> None:
        conn.execute(
            entries_table.update().where(self._own(entries_table), entries_table.c.id == entry_id).values(version=version, updated_at=stamp, updated_by=author)
        )

    def _must(self, entry_id: str) -> EntryRecord:
        record = self.record(entry_id)
        if record is None:
            raise EntryNotFound(f"no entry '{entry_id}'")
        return record

    def question_owners(self, questions: Sequence[str]) -> dict[str, str]:
        """Which live or draft entry (not retired) this shop's agents could meet already has each of these questions."""
        if not questions:
            return {}
        with self.db.connect() as conn:
            rows = conn.execute(
                sa.select(questions_table.c.text, questions_table.c.entry_id)
                .join(entries_table, sa.and_(entries_table.c.shop == questions_table.c.shop, entries_table.c.id == questions_table.c.entry_id))
                .where(questions_table.c.shop.in_(self.layers), questions_table.c.text.in_(list(questions)), entries_table.c.status != "retired")
                .order_by(questions_table.c.shop != self.shop_name)  # its own entry first
            ).all()
            owners: dict[str, str] = {}
            for row in rows:
                owners.setdefault(row.text, row.entry_id)
            for row in conn.execute(sa.select(pending_table.c.entry_id, pending_table.c.questions).where(pending_table.c.shop.in_(self.layers))).all():
                for question in json.loads(row.questions):
                    if question in questions:
                        owners.setdefault(question, row.entry_id)
        return owners

    def close(self) -> None:
        self.db.dispose()
