"""The team lead's figures over live traffic (`/dashboard`, `/api/dashboard`, `bot report`): each one a SQL aggregate
(GROUP BY, or a window for percentiles) over the feedback rows of a period, read from the covering index on
(event, created_at, ...), on SQLite and PostgreSQL alike; only the grouped rows (days, intents, entries) are arranged here.

What the rows mean (bot/server/app.py writes them): `shown` (one per suggestion, rank 1 carries the suggest time),
`abstained` (no suggestion), then for each buyer message a reply answers: `picked` (the suggestion it started from),
`edited` (its edit distance and the suggestion's length), `ignored` (the other suggestions shown) and `sent` (the
agent, how long the message waited, the intent). A reply "started from a suggestion" when its `sent` row names an entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.db import conversations_table, feedback_table, messages_table, now
from bot.errors import BotError
from bot.kb.store import KBStore
from bot.kb.template import fill
from bot.order import SHOP_TIME
from bot.shops import DEFAULT_SHOP

f = feedback_table
EDIT_BUCKETS = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0)  # relative edit: unedited, then up to 10 %, 25 % ... above 100 %
REWRITE_MIN_TAKEN = 5        # an entry taken this often ...
REWRITE_MIN_EDIT = 0.3       # ... and rewritten by this share of its length on average is a rewrite candidate
DEAD_WEIGHT_MIN_SHOWN = 20   # shown this often and never taken: dead weight
MAX_DAYS = 400
SORTS = ("shown", "taken", "taken_unedited", "mean_relative_edit", "ignored")
_SPAN = re.compile(r"^(\d{1,3})([dh])$")


class PeriodError(BotError):
    """A date range the dashboard cannot read (the message says which part and how to write it)."""


@dataclass(frozen=True)
class Period:
    """[since, until) in UTC, as the database stores times, and the shops whose conversations count (None: all)."""

    since: datetime
    until: datetime
    shops: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"since": self.since.isoformat() + "Z", "until": self.until.isoformat() + "Z",
                "since_shop_time": _shop_time(self.since), "until_shop_time": _shop_time(self.until), "shops": self.shops}


def _shop_time(moment: datetime) -> str:
    return (moment + SHOP_TIME.utcoffset(None)).strftime("%Y-%m-%d %H:%M")


def _moment(value: str, name: str, current: datetime, end: bool) -> datetime:
    """'7d' / '12h' back from now, or a shop-time date 'YYYY-MM-DD' (an end date counts whole) or 'YYYY-MM-DDTHH:MM'."""
    span = _SPAN.match(value)
    if span:
        amount, unit = int(span.group(1)), span.group(2)
        return current - (timedelta(days=amount) if unit == "d" else timedelta(hours=amount))
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise PeriodError(f"'{name}' must be like 7d, 12h, 2026-11-30 or 2026-11-30T08:00 (shop time), not {value!r}") from None
    if moment.tzinfo is None:
        if end and len(value) == 10:
            moment += timedelta(days=1)  # until=2026-11-30 includes that day
        moment = moment.replace(tzinfo=SHOP_TIME)
    return moment.astimezone(SHOP_TIME).replace(tzinfo=None) - SHOP_TIME.utcoffset(None)


def period_of(since: str | None, until: str | None = None, current: datetime | None = None, shops: tuple[str, ...] | None = None) -> Period:
    current = current or now()
    start = _moment(since or "7d", "since", current, end=False)
    stop = _moment(until, "until", current, end=True) if until else current
    if stop <= start:
        raise PeriodError(f"'until' ({until}) must come after 'since' ({since})")
    if stop - start > timedelta(days=MAX_DAYS):
        raise PeriodError(f"a period of at most {MAX_DAYS} days, please")
    return Period(start, stop, shops)


def _in(period: Period, *events: str) -> Any:
    """Feedback rows of these events in the period (of the period's shops' conversations, when it names shops)."""
    condition = sa.and_(f.c.event.in_(events) if len(events) > 1 else f.c.event == events[0],
                        f.c.created_at >= period.since, f.c.created_at < period.until)
    if period.shops is None:
        return condition
    of_shops = sa.select(conversations_table.c.id).where(conversations_table.c.shop.in_(period.shops))
    return sa.and_(condition, f.c.conversation_id.in_(of_shops))


def _day(conn: Connection) -> Any:
    """The shop-time calendar day of a feedback row, as a SQL expression of this database."""
    hours = int(SHOP_TIME.utcoffset(None).total_seconds() // 3600)
    if conn.dialect.name == "sqlite":
        return sa.func.date(f.c.created_at, f"+{hours} hours")
    return sa.cast(f.c.created_at + sa.text(f"INTERVAL '{hours} hours'"), sa.Date)


def _count(condition: Any) -> Any:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _percentiles(conn: Connection, value: Any, where: Any, percents: dict[str, int], group: Any = None) -> list[dict[str, Any]]:
    """Nearest-rank percentiles of `value` (per `group` where given): a window numbers the sorted rows in SQL and only
    the row at each percentile comes back (the smallest n with n / total >= p, in integers on both databases)."""
    partition = [group] if group is not None else []
    ranked = sa.select(
        *([group.label("grp")] if group is not None else []),
        value.label("v"),
        sa.func.row_number().over(partition_by=partition, order_by=value).label("n"),
        sa.func.count().over(partition_by=partition).label("total"),
    ).where(where, value.isnot(None)).subquery()

    def at(percent: Any) -> Any:
        return sa.and_(ranked.c.n * 100 >= ranked.c.total * percent, (ranked.c.n - 1) * 100 < ranked.c.total * percent)

    columns = [ranked.c.grp] if group is not None else []
    rows = conn.execute(sa.select(*columns, ranked.c.v, ranked.c.n, ranked.c.total).where(sa.or_(*[at(p) for p in percents.values()]))).all()
    out: dict[Any, dict[str, Any]] = {}
    for row in rows:
        item = out.setdefault(row.grp if group is not None else None, {"count": int(row.total)})
        n, total = int(row.n), int(row.total)
        for name, percent in percents.items():
            if n * 100 >= total * percent and (n - 1) * 100 < total * percent:
                item[name] = round(float(row.v), 1)
    return [{"group": key, **item} for key, item in out.items()]


def acceptance(conn: Connection, period: Period) -> dict[str, Any]:
    """Of the buyer messages agents answered, how many replies started from a suggestion: by rank, day and intent
    (one grouped scan; the groups, a few per day and intent, are summed here)."""
    taken = f.c.entry_id.isnot(None)
    day = _day(conn).label("day")
    groups = conn.execute(sa.select(day, f.c.intent, f.c.rank, taken.label("taken"), sa.func.count())
                          .where(_in(period, "sent"), f.c.message_id.isnot(None))
                          .group_by(day, f.c.intent, f.c.rank, taken)).all()
    total = sum(n for *_, n in groups)
    from_suggestion = sum(n for *_, took, n in groups if took)
    by_rank: dict[Any, int] = {}
    daily: dict[str, list[int]] = {}
    by_intent: dict[str, list[int]] = {}
    for d, intent, rank, took, n in groups:
        if took:
            by_rank[rank] = by_rank.get(rank, 0) + n
        for key, table in ((str(d), daily), (intent or "(none)", by_intent)):
            counts = table.setdefault(key, [0, 0])
            counts[0] += n
            counts[1] += n if took else 0
    return {
        "answered": total, "from_suggestion": from_suggestion, "rate": _rate(from_suggestion, total),
        "by_rank": [{"rank": rank, "count": n, "share": _rate(n, total)}
                    for rank, n in sorted(by_rank.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))],
        "daily": [{"day": d, "answered": n, "from_suggestion": t, "rate": _rate(t, n)} for d, (n, t) in sorted(daily.items())],
        "by_intent": [{"intent": i, "answered": n, "from_suggestion": t, "rate": _rate(t, n)}
                      for i, (n, t) in sorted(by_intent.items(), key=lambda kv: (-kv[1][0], kv[0]))],
    }


def _relative_edit() -> Any:
    return sa.cast(f.c.edit_distance, sa.Float) / sa.func.nullif(f.c.suggested_chars, 0)


def edits(conn: Connection, period: Period) -> dict[str, Any]:
    """How much agents rewrite a suggestion they take: edit distance relative to the suggestion's length."""
    relative = _relative_edit()
    edited = f.c.event == "edited"
    bounds = EDIT_BUCKETS[1:]
    buckets = [_count(sa.and_(edited, relative > low, relative <= high)) for low, high in zip(EDIT_BUCKETS, bounds)]
    row = conn.execute(sa.select(_count(f.c.event == "picked"), _count(edited), *buckets, _count(sa.and_(edited, relative > bounds[-1])))
                       .where(_in(period, "picked", "edited"))).one()
    taken, edited_count = int(row[0] or 0), int(row[1] or 0)
    counts, above = [int(c or 0) for c in row[2:-1]], int(row[-1] or 0)
    unedited = max(0, taken - edited_count)
    labels = ["0"] + [f"{int(low * 100)}–{int(high * 100)}%" for low, high in zip(EDIT_BUCKETS, bounds)] + [f">{int(bounds[-1] * 100)}%"]
    histogram = [unedited, *counts, above]
    return {"taken": taken, "edited": edited_count, "unedited": unedited,
            "histogram": [{"bucket": label, "count": n, "share": _rate(n, taken)} for label, n in zip(labels, histogram)]}


def _entry_row(row: Any) -> dict[str, Any]:
    taken, edited = int(row.taken or 0), int(row.edited or 0)
    return {"entry_id": row.entry_id, "shown": int(row.shown or 0), "taken": taken, "taken_unedited": max(0, taken - edited),
            "mean_relative_edit": round(float(row.edit_sum or 0.0) / taken, 4) if taken else None, "ignored": int(row.ignored or 0)}


def per_entry(conn: Connection, period: Period) -> list[dict[str, Any]]:
    """Every entry with traffic in the period: shown, taken, taken unedited, mean relative edit, ignored (one grouped scan)."""
    relative = _relative_edit()
    rows = conn.execute(sa.select(
        f.c.entry_id,
        _count(f.c.event == "shown").label("shown"),
        _count(f.c.event == "picked").label("taken"),
        _count(f.c.event == "edited").label("edited"),
        sa.func.sum(sa.case((f.c.event == "edited", relative), else_=0.0)).label("edit_sum"),
        _count(f.c.event == "ignored").label("ignored"),
    ).where(_in(period, "shown", "picked", "edited", "ignored"), f.c.entry_id.isnot(None)).group_by(f.c.entry_id)).all()
    return [_entry_row(r) for r in rows]


def entries(rows: list[dict[str, Any]], sort: str = "shown", limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """One page of the per-entry figures, largest first by `sort` (ties by id)."""
    if sort not in SORTS:
        raise PeriodError(f"'sort' must be one of {', '.join(SORTS)}")
    ordered = sorted(rows, key=lambda r: (r[sort] is None, -(r[sort] or 0), r["entry_id"]))
    next_offset = offset + limit if offset + limit < len(rows) else None
    return {"count": len(rows), "limit": limit, "offset": offset, "next_offset": next_offset, "sort": sort,
            "items": ordered[offset:offset + limit]}


def _answers(conn: Connection, ids: list[str], period: Period) -> dict[str, str]:
    """The entries' live answers, filled with the facts of the period's shop as its agents see them (the default
    shop's when the period counts several shops)."""
    if not ids:
        return {}
    shop = period.shops[0] if period.shops and len(period.shops) == 1 else DEFAULT_SHOP
    store = KBStore(str(conn.engine.url), shop, conn.engine)
    profile = store.shop()
    return {entry_id: fill(entry.answer, profile).text for entry_id, entry in store.live(ids).items()}


def rewrite_candidates(conn: Connection, period: Period, rows: list[dict[str, Any]], top: int = 10, examples: int = 3) -> list[dict[str, Any]]:
    """Entries agents often take and rewrite heavily, each with its most frequent rewrites beside the approved answer."""
    chosen = sorted((r for r in rows if r["taken"] >= REWRITE_MIN_TAKEN and (r["mean_relative_edit"] or 0) >= REWRITE_MIN_EDIT),
                    key=lambda r: (-r["taken"] * r["mean_relative_edit"], r["entry_id"]))[:top]
    ids = [r["entry_id"] for r in chosen]
    versions: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        counted = (sa.select(f.c.entry_id, f.c.final_text, sa.func.count().label("n"), sa.func.max(f.c.id).label("latest"))
                   .where(_in(period, "edited"), f.c.entry_id.in_(ids), f.c.final_text.isnot(None))
                   .group_by(f.c.entry_id, f.c.final_text).subquery())
        ranked = sa.select(counted, sa.func.row_number().over(partition_by=counted.c.entry_id,
                                                              order_by=(sa.desc(counted.c.n), sa.desc(counted.c.latest))).label("r")).subquery()
        for row in conn.execute(sa.select(ranked).where(ranked.c.r <= examples).order_by(ranked.c.entry_id, ranked.c.r)):
            versions[row.entry_id].append({"text": row.final_text, "count": int(row.n)})
    answers = _answers(conn, ids, period)
    return [{**r, "answer": answers.get(r["entry_id"]), "versions": versions[r["entry_id"]]} for r in chosen]


def dead_weight(conn: Connection, period: Period, rows: list[dict[str, Any]], top: int = 10) -> list[dict[str, Any]]:
    """Entries shown often and never taken."""
    chosen = sorted((r for r in rows if r["shown"] >= DEAD_WEIGHT_MIN_SHOWN and r["taken"] == 0),
                    key=lambda r: (-r["shown"], r["entry_id"]))[:top]
    answers = _answers(conn, [r["entry_id"] for r in chosen], period)
    return [{"entry_id": r["entry_id"], "shown": r["shown"], "taken": 0, "answer": answers.get(r["entry_id"])} for r in chosen]


def coverage(conn: Connection, period: Period, top: int = 8, examples: int = 3) -> dict[str, Any]:
    """How often the engine abstained, by day, and the largest groups (by intent) of messages it could not answer."""
    abstained = f.c.event == "abstained"
    read = sa.and_(_in(period, "shown", "abstained"), sa.or_(abstained, f.c.rank == 1))
    day = _day(conn).label("day")
    daily = conn.execute(sa.select(day, sa.func.count(), _count(abstained)).where(read).group_by(day).order_by(day)).all()
    total, missed = sum(int(n) for _, n, _ in daily), sum(int(a or 0) for _, _, a in daily)
    groups = conn.execute(sa.select(f.c.intent, sa.func.count().label("n")).where(_in(period, "abstained"))
                          .group_by(f.c.intent).order_by(sa.desc("n"), f.c.intent).limit(top)).all()
    texts: dict[str | None, list[str]] = {intent: [] for intent, _ in groups}
    if groups:
        latest = (sa.select(f.c.intent, messages_table.c.text,
                            sa.func.row_number().over(partition_by=f.c.intent, order_by=sa.desc(f.c.id)).label("r"))
                  .join(messages_table, messages_table.c.id == f.c.message_id)
                  .where(_in(period, "abstained"), f.c.intent.in_([i for i in texts if i is not None])).subquery())
        for row in conn.execute(sa.select(latest).where(latest.c.r <= examples).order_by(latest.c.intent, latest.c.r)):
            texts[row.intent].append(row.text)
    return {
        "messages": total, "abstained": missed, "rate": _rate(missed, total),
        "daily": [{"day": str(d), "messages": int(n), "abstained": int(a or 0), "rate": _rate(int(a or 0), int(n))} for d, n, a in daily],
        "unanswered": [{"intent": i or "(none)", "count": int(n), "examples": texts.get(i, [])} for i, n in groups],
    }


def speed(conn: Connection, period: Period, per_agent: bool) -> dict[str, Any]:
    """How long buyers wait for a reply (p50, p90; per agent for admins) and the server's suggest time (p50, p95)."""
    waits = _in(period, "sent")
    overall = _percentiles(conn, f.c.wait_ms, waits, {"p50_ms": 50, "p90_ms": 90})
    latency = _percentiles(conn, f.c.latency_ms, _in(period, "shown", "abstained"), {"p50_ms": 50, "p95_ms": 95})
    result: dict[str, Any] = {
        "wait": overall[0] if overall else {"count": 0},
        "suggest_latency": latency[0] if latency else {"count": 0},
    }
    for block in (result["wait"], result["suggest_latency"]):
        block.pop("group", None)
    if per_agent:
        agents = _percentiles(conn, f.c.wait_ms, waits, {"p50_ms": 50, "p90_ms": 90}, group=f.c.agent)
        counted = conn.execute(sa.select(f.c.agent, sa.func.count(), _count(f.c.entry_id.isnot(None)))
                               .where(waits, f.c.message_id.isnot(None)).group_by(f.c.agent)).all()
        rows = {a["group"]: a for a in agents}
        result["per_agent"] = sorted(
            ({"agent": name or "(unknown)", "answered": int(n), "from_suggestion": int(t or 0), "rate": _rate(int(t or 0), int(n)),
              **{k: v for k, v in rows.get(name, {"count": 0}).items() if k != "group"}} for name, n, t in counted),
            key=lambda a: (-a["answered"], a["agent"]))
    return result


def dashboard(db: Engine, period: Period, per_agent: bool, sort: str = "shown", limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """Every figure of the dashboard for the period; per-agent figures only when asked (admins)."""
    with db.connect() as conn:
        rows = per_entry(conn, period)
        return {
            "period": period.to_dict(),
            "acceptance": acceptance(conn, period),
            "edits": edits(conn, period),
            "entries": entries(rows, sort, limit, offset),
            "rewrite_candidates": rewrite_candidates(conn, period, rows),
            "dead_weight": dead_weight(conn, period, rows),
            "coverage": coverage(conn, period),
            "speed": speed(conn, period, per_agent),
            "per_agent": per_agent,
        }
