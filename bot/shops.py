"""The shops one deployment serves: their names, and adding, listing and removing them (`bot shop ...`).

Each shop has its own layer of KB entries and its own profile; the common layer (`common`) holds what every shop
inherits (the platform's rules). A shop's row with the same id as a common entry overrides it for that shop, or,
retired, withdraws it there. A database made before shops holds one shop, `default`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.db import (
    changes_table,
    conversations_table,
    entries_table,
    log_kb_change,
    now,
    pending_table,
    questions_table,
    revisions_table,
    shop_table,
    shops_table,
)
from bot.errors import BotError

DEFAULT_SHOP = "default"
COMMON = "common"  # the layer every shop inherits: a reserved name, never a shop of its own
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


class ShopError(BotError):
    """A shop name that is not valid, a shop that does not exist, or one that exists already."""


@dataclass(frozen=True)
class ShopInfo:
    name: str
    created_at: datetime
    entries: int  # rows in its own layer (any status)
    conversations: int


def check_name(name: object, allow_common: bool = False) -> str:
    """The shop name as given, or ShopError saying what a name may hold."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ShopError(f"shop name {name!r}: use 1-64 lowercase letters, digits, '-' or '_', starting with a letter or digit")
    if name == COMMON and not allow_common:
        raise ShopError(f"'{COMMON}' is the layer every shop inherits, not a shop: choose another name")
    return name


def exists(db: Engine, name: str) -> bool:
    with db.connect() as conn:
        return conn.execute(sa.select(shops_table.c.name).where(shops_table.c.name == name)).first() is not None


def register(conn: Connection, name: str) -> None:
    """In this transaction, make the shop if it is not there yet (the default shop comes with its first import)."""
    if name != COMMON and conn.execute(sa.select(shops_table.c.name).where(shops_table.c.name == name)).first() is None:
        conn.execute(shops_table.insert().values(name=name, created_at=now()))


def names(db: Engine) -> list[str]:
    """Every shop's name, sorted (no counting: for pickers)."""
    with db.connect() as conn:
        return list(conn.execute(sa.select(shops_table.c.name).order_by(shops_table.c.name)).scalars())


def must_exist(db: Engine, name: str) -> str:
    """The name of an existing shop (or the common layer), else ShopError naming `bot shop add`."""
    check_name(name, allow_common=True)
    if name != COMMON and not exists(db, name):
        raise ShopError(f"no shop '{name}': add it with `bot shop add {name} --profile FILE.yml`")
    return name


def last_change(db: Engine) -> int:
    """The latest change to any shop's KB (0: none)."""
    with db.connect() as conn:
        return int(conn.execute(sa.select(sa.func.max(changes_table.c.seq))).scalar_one() or 0)


def add(db: Engine, name: str, profile: dict[str, str]) -> None:
    """A new shop with its profile (the values its entries' {variables} are filled with)."""
    check_name(name)
    stamp = now()
    try:
        with db.begin() as conn:
            conn.execute(shops_table.insert().values(name=name, created_at=stamp))
            if profile:
                conn.execute(shop_table.insert(), [{"shop": name, "key": k, "position": i, "value": v} for i, (k, v) in enumerate(profile.items())])
            log_kb_change(conn, name, None)
    except sa.exc.IntegrityError as exc:
        raise ShopError(f"shop '{name}' exists already") from exc


def listing(db: Engine) -> list[ShopInfo]:
    """Every shop, by name, with its own entries and its conversations counted."""
    entries = sa.select(entries_table.c.shop, sa.func.count().label("n")).group_by(entries_table.c.shop).subquery()
    conversations = sa.select(conversations_table.c.shop, sa.func.count().label("n")).group_by(conversations_table.c.shop).subquery()
    query = (
        sa.select(shops_table.c.name, shops_table.c.created_at, entries.c.n.label("entries"), conversations.c.n.label("conversations"))
        .outerjoin(entries, entries.c.shop == shops_table.c.name)
        .outerjoin(conversations, conversations.c.shop == shops_table.c.name)
        .order_by(shops_table.c.name)
    )
    with db.connect() as conn:
        return [ShopInfo(r.name, r.created_at, int(r.entries or 0), int(r.conversations or 0)) for r in conn.execute(query)]


def remove(db: Engine, name: str) -> None:
    """Remove a shop with its own entries, their history and its profile. A shop with conversations is kept: they
    and their feedback are the team's records (ShopError says so)."""
    must_exist(db, check_name(name))
    with db.begin() as conn:
        held = conn.execute(sa.select(sa.func.count()).select_from(conversations_table).where(conversations_table.c.shop == name)).scalar_one()
        if held:
            raise ShopError(f"shop '{name}' has {held} conversation(s): they are kept as records, so the shop is kept too")
        for table in (questions_table, pending_table, entries_table, revisions_table, shop_table):
            conn.execute(table.delete().where(table.c.shop == name))
        conn.execute(shops_table.delete().where(shops_table.c.name == name))
        log_kb_change(conn, name, None)
