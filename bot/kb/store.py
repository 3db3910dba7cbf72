"""The knowledge base at run time: one class owns the database (SQLite by default, or any SQLAlchemy URL)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from bot.errors import ConfigError
from bot.kb import Entry, KBContent

metadata = sa.MetaData()

entries_table = sa.Table(
    "kb_entries",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("intent", sa.String(64), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("tags", sa.Text, nullable=False),  # JSON list
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

questions_table = sa.Table(
    "kb_questions",
    metadata,
    sa.Column("entry_id", sa.String(100), sa.ForeignKey("kb_entries.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
)

shop_table = sa.Table(
    "shop_profile",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("value", sa.Text, nullable=False),
)


meta_table = sa.Table(
    "kb_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _make_engine(url: str) -> Engine:
    try:
        sa_url = sa.engine.make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"--db: not a database URL: {url!r} (e.g. sqlite:///var/bot.sqlite3)") from exc
    if sa_url.get_backend_name() == "sqlite":
        if sa_url.database and sa_url.database != ":memory:":
            Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, future=True, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return sa.create_engine(url, future=True, pool_pre_ping=True)


class KBStore:
    """All reads and writes of the knowledge base; every write is one transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _make_engine(url)
        try:
            metadata.create_all(self.engine)
        except (OperationalError, SQLAlchemyError) as exc:
            raise ConfigError(f"cannot open database {self.safe_url}: {exc.orig if hasattr(exc, 'orig') else exc}") from exc

    @property
    def safe_url(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    def get_meta(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(meta_table.c.value).where(meta_table.c.key == key)).scalar_one_or_none()

    def replace_all(self, content: KBContent, meta: dict[str, str] | None = None) -> None:
        """Make the database hold exactly this KB (all or nothing), with bookkeeping values in kb_meta."""
        now = _now()
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
                            "updated_at": now,
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
