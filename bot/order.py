"""The facts of the buyer's order (sent by the shop's integration with a message): checked, kept, and read as {order.*}."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Mapping, Optional

from pydantic import BaseModel, Extra, ValidationError, constr

SHOP_TIME = timezone(timedelta(hours=8))  # Taobao, Tmall and JD shops keep Beijing time
ORDER_PREFIX = "order."
ORDER_VARIABLES = ("order.id", "order.status", "order.courier", "order.tracking_no", "order.paid_at", "order.dispatch_day")
DEFAULT_CUTOFF = "16:30"

Short = constr(strip_whitespace=True, min_length=1, max_length=100)


class OrderItem(BaseModel):
    """One item of the order."""

    title: Optional[constr(strip_whitespace=True, max_length=200)] = None  # type: ignore[valid-type]
    sku: Optional[Short] = None  # type: ignore[valid-type]

    class Config:
        extra = Extra.forbid
        frozen = True  # hashable: a conversation with its order is a cache key


class Order(BaseModel):
    """What the shop's order system says about the buyer's order; every field optional, nothing else accepted."""

    id: Optional[Short] = None  # type: ignore[valid-type]
    status: Optional[Short] = None  # type: ignore[valid-type]
    paid_at: Optional[datetime] = None  # ISO 8601; without a zone it is the shop's time (Beijing)
    courier: Optional[Short] = None  # type: ignore[valid-type]
    tracking_no: Optional[Short] = None  # type: ignore[valid-type]
    items: tuple[OrderItem, ...] = ()

    class Config:
        extra = Extra.forbid
        frozen = True  # hashable: a conversation with its order is a cache key
        max_anystr_length = 200

    def to_json(self) -> str:
        return self.json(exclude_none=True, ensure_ascii=False)

    def to_dict(self) -> dict[str, Any]:
        return json.loads(self.to_json())


class OrderError(ValueError):
    """The order facts are not an object of the documented fields."""


MAX_ITEMS = 50


def parse_order(raw: object) -> Order:
    """The order facts of a request, or an OrderError naming each wrong field."""
    if not isinstance(raw, Mapping):
        raise OrderError("'order' must be an object: {id, status, paid_at, courier, tracking_no, items}")
    items = raw.get("items")
    if isinstance(items, list) and len(items) > MAX_ITEMS:
        raise OrderError(f"'order.items' has {len(items)} items; the limit is {MAX_ITEMS}")
    try:
        return Order.parse_obj(raw)
    except ValidationError as exc:
        problems = "; ".join(f"order.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise OrderError(problems) from exc


def _local(moment: datetime) -> datetime:
    return moment.replace(tzinfo=SHOP_TIME) if moment.tzinfo is None else moment.astimezone(SHOP_TIME)


def _cutoff(shop: Mapping[str, str]) -> time:
    try:
        return time.fromisoformat(shop.get("dispatch_cutoff") or DEFAULT_CUTOFF)
    except ValueError:
        return time.fromisoformat(DEFAULT_CUTOFF)


def _day_words(day: date, today: date) -> str:
    if day == today:
        return "今天"
    if day == today + timedelta(days=1):
        return "明天"
    return f"{day.month}月{day.day}日"


def dispatch_day(paid_at: datetime, shop: Mapping[str, str], now: datetime) -> str:
    """When an order paid at `paid_at` leaves the warehouse, in words: paid before the shop's cut-off, that day;
    after it, the next day ("今天", "明天" or "12月3日", from `now`)."""
    paid = _local(paid_at)
    day = paid.date() if paid.time() < _cutoff(shop) else paid.date() + timedelta(days=1)
    return _day_words(day, _local(now).date())


def order_facts(order: Order | None, shop: Mapping[str, str], now: datetime | None = None) -> dict[str, str]:
    """The {order.*} values this order knows; a fact it lacks is absent (its placeholder stays and blocks sending)."""
    if order is None:
        return {}
    facts = {
        f"order.{name}": getattr(order, name) for name in ("id", "status", "courier", "tracking_no") if getattr(order, name)
    }
    if order.paid_at is not None:
        paid = _local(order.paid_at)
        facts["order.paid_at"] = f"{paid.month}月{paid.day}日 {paid:%H:%M}"
        facts["order.dispatch_day"] = dispatch_day(order.paid_at, shop, now or datetime.now(SHOP_TIME))
    return facts
