"""Live events across `bot serve` processes on one PostgreSQL: each event is a row, announced by NOTIFY, read by LISTEN.

SQLite serves one process, so it needs no relay. A process delivers its own events to its own pages directly and
skips them when they come back; the others fetch the row by the id the notification carries (NOTIFY payloads are
limited to 8,000 bytes, a buyer message with its suggestions can be more).
"""

from __future__ import annotations

import asyncio
import json
import logging
import select
import threading
import uuid
from datetime import timedelta
from typing import Any, Awaitable, Callable

import sqlalchemy as sa

from bot.db import live_events_table, now

logger = logging.getLogger(__name__)
CHANNEL = "kefu_live_events"
KEEP = timedelta(minutes=10)  # events are for pages open now; older rows are deleted
Deliver = Callable[[str, dict[str, Any]], Awaitable[None]]


def relays(db: sa.engine.Engine) -> bool:
    """Whether this database carries events between processes (PostgreSQL)."""
    return db.dialect.name == "postgresql"


class Relay:
    """Publishes this process's events and hands the other processes' events to `deliver(target, event)` on the loop."""

    def __init__(self, db: sa.engine.Engine) -> None:
        self.db = db  # the conversation store's: its tables exist, no second pool
        self.origin = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def publish(self, target: str, event: dict[str, Any]) -> None:
        """Store the event and announce it (blocking: call it off the event loop)."""
        with self.db.begin() as conn:
            result = conn.execute(live_events_table.insert().values(
                origin=self.origin, target=target, payload=json.dumps(event, ensure_ascii=False), created_at=now()))
            conn.execute(sa.text("SELECT pg_notify(:channel, :id)"), {"channel": CHANNEL, "id": str(result.inserted_primary_key[0])})

    def start(self, loop: asyncio.AbstractEventLoop, deliver: Deliver) -> None:
        self._thread = threading.Thread(target=self._listen, args=(loop, deliver), name="live-event-relay", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _listen(self, loop: asyncio.AbstractEventLoop, deliver: Deliver) -> None:
        """LISTEN on a connection of its own; reconnect after a database hiccup (events of that gap are lost to the
        live pages, never to the database: a reload shows them)."""
        while not self._stop.is_set():
            try:
                self._listen_once(loop, deliver)
            except Exception as exc:
                logger.warning("live event relay: %s; reconnecting", exc)
                self._stop.wait(1.0)

    def _listen_once(self, loop: asyncio.AbstractEventLoop, deliver: Deliver) -> None:
        raw = self.db.raw_connection()
        try:
            connection = raw.driver_connection
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f"LISTEN {CHANNEL}")
            last_prune = 0.0
            while not self._stop.is_set():
                if select.select([connection], [], [], 0.5) != ([], [], []):
                    connection.poll()
                    ids = []
                    while connection.notifies:
                        ids.append(int(connection.notifies.pop(0).payload))
                    if ids:
                        self._hand_over(ids, loop, deliver)
                clock = loop.time() if not loop.is_closed() else 0.0
                if clock - last_prune > 60:
                    last_prune = clock
                    with self.db.begin() as conn:
                        conn.execute(live_events_table.delete().where(live_events_table.c.created_at < now() - KEEP))
        finally:
            raw.invalidate()  # never back to the pool: it is in autocommit and still listening

    def _hand_over(self, ids: list[int], loop: asyncio.AbstractEventLoop, deliver: Deliver) -> None:
        query = sa.select(live_events_table).where(live_events_table.c.id.in_(ids), live_events_table.c.origin != self.origin)
        with self.db.connect() as conn:
            rows = conn.execute(query.order_by(live_events_table.c.id)).all()
        for row in rows:
            asyncio.run_coroutine_threadsafe(deliver(row.target, json.loads(row.payload)), loop)
