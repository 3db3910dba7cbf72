"""The knowledge base at run time: one class owns the database (SQLite by default, or any SQLAlchemy URL)."""

from __future__ import annotations

import json

import sqlalchemy as sa

from bot.db import connect, entries_table, meta_table, now, questions_table, shop_table
from bot.kb import Entry, KBContent


class KBStore:
    """All reads and writes of the knowledge base; every write is one transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = connect(url)

    @property
    def safe_url(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    def get_meta(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(meta_table.c.value).where(meta_table.c.key == key)).scalar_one_or_none()

    def replace_all(self, content: KBContent, meta: dict[str, str] | None = None) -> None:
        """Make the database hold exactly this KB (all or nothing), with bookkeeping values in kb_meta."""
        updated_at = now()
        with self.engine.begin() as conn:
            for key, value in (meta or {}).items():
                conn.execute(meta_table.delete().where(meta_table.c.key == key))
                conn.execute(meta_table.insert().values(key=key, value=value))
            conn.execute(questions_table.delete())
            conn.execute(entries_table.delete())
            conn.execute(shop_table.delete())
            if content.shop:
                conn.execute(
                    shop_table.insert(),
                    [{"key": k, "position": i, "value": v} for i, (k, v) in enumerate(content.shop.items())],
                )
            if content.entries:
                conn.execute(
                    entries_table.insert(),
                    [
                        {
                            "id": e.id,
                            "intent": e.intent,
                            "status": e.status,
                            "tags": json.dumps(list(e.tags), ensure_ascii=False),
                            "answer": e.answer,
                            "version": 1,
                            "updated_at": updated_at,
                        }
                        for e in content.entries
                    ],
                )
                conn.execute(
                    questions_table.insert(),
                    [
                        {"entry_id": e.id, "position": i, "text": q}
                        for e in content.entries
                        for i, q in enumerate(e.questions)
                    ],
                )

    def load(self, status: str | None = None) -> KBContent:
        """The whole KB (or only entries of one status), entries sorted by id."""
        with self.engine.connect() as conn:
            shop_rows = conn.execute(sa.select(shop_table).order_by(shop_table.c.position)).all()
            query = sa.select(entries_table).order_by(entries_table.c.id)
            if status is not None:
                query = query.where(entries_table.c.status == status)
            entry_rows = conn.execute(query).all()
            question_rows = conn.execute(
                sa.select(questions_table).order_by(questions_table.c.entry_id, questions_table.c.position)
            ).all()
        questions: dict[str, list[str]] = {}
        for row in question_rows:
            questions.setdefault(row.entry_id, []).append(row.text)
        entries = tuple(
            Entry(
                id=row.id,
                intent=row.intent,
                status=row.status,
                tags=tuple(json.loads(row.tags)),
                questions=tuple(questions.get(row.id, ())),
                answer=row.answer,
            )
            for row in entry_rows
        )
        return KBContent(shop={row.key: row.value for row in shop_rows}, entries=entries)

    def approved(self) -> KBContent:
        return self.load(status="approved")

    def get(self, entry_id: str) -> Entry | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(entries_table).where(entries_table.c.id == entry_id)).first()
            if row is None:
                return None
            questions = conn.execute(
                sa.select(questions_table.c.text)
                .where(questions_table.c.entry_id == entry_id)
                .order_by(questions_table.c.position)
            ).scalars().all()
        return Entry(row.id, row.intent, row.status, tuple(json.loads(row.tags)), tuple(questions), row.answer)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(entries_table)).scalar_one())

    def close(self) -> None:
        self.engine.dispose()
