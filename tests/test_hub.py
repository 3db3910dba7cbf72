"""The hub of open pages: every page gets an event at once, a slow page is dropped, empty sets are forgotten."""

from __future__ import annotations

import asyncio

import pytest

from bot.server import hub as hub_module
from bot.server.hub import Hub

from live_server import run_in_own_loop


class FakePage:
    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.received: list[str] = []
        self.closed: int | None = None

    async def send_text(self, text: str) -> None:
        await asyncio.sleep(self.delay)
        self.received.append(text)

    async def close(self, code: int) -> None:
        self.closed = code


def test_a_slow_page_does_not_hold_up_the_others_and_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_module, "SEND_TIMEOUT_S", 0.2)
    hub = Hub()
    slow, fast = FakePage(delay=60), FakePage()
    hub.join(slow, "s1")  # type: ignore[arg-type]
    hub.join(fast, "s2")  # type: ignore[arg-type]
    customer = FakePage()
    hub.join(customer, "s3", "c-1")  # type: ignore[arg-type]

    async def run() -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await hub.to_agents({"type": "customer_message"})
        return loop.time() - start

    took = run_in_own_loop(run())
    assert fast.received and not slow.received and slow.closed == hub_module.SLOW_PAGE
    assert took < 5, "the event waited for the slow page for its whole delay"
    assert slow not in hub.agents and slow not in hub.sessions and fast in hub.agents
    hub.leave(customer)  # type: ignore[arg-type]
    assert "c-1" not in hub.customers, "a conversation's set is forgotten once empty"


def test_a_page_that_opens_while_sessions_are_checked_is_left_open() -> None:
    hub = Hub()
    old, new = FakePage(), FakePage()
    hub.join(old, "ended")  # type: ignore[arg-type]

    async def live(keys: set[str]) -> set[str]:
        hub.join(new, "fresh")  # type: ignore[arg-type]  # logged in meanwhile: not among the keys asked about
        return set()

    assert run_in_own_loop(hub.close_ended(live)) == 1
    assert old.closed == hub_module.SESSION_ENDED and new.closed is None and new in hub.agents


def test_a_customer_page_sees_its_conversation_only_in_a_shop_its_account_serves() -> None:
    """A page may open on an id no conversation has yet; when the first message makes it in another shop, an agent of
    shop a listening there must not read that shop's replies (it could, before)."""
    hub = Hub()
    listener, staff, admin = FakePage(), FakePage(), FakePage()
    hub.join(listener, "ann", "later-1", frozenset({"shop-a"}))  # type: ignore[arg-type]
    hub.join(staff, "bo", "later-1", frozenset({"shop-b"}))  # type: ignore[arg-type]
    hub.join(admin, "root", "later-1", None)  # type: ignore[arg-type]
    run_in_own_loop(hub.to_customer("later-1", {"type": "agent_message", "shop": "shop-b", "text": "亲,已经发货了"}))
    assert staff.received and admin.received and not listener.received
    run_in_own_loop(hub.to_customer("later-1", {"type": "agent_message", "shop": "shop-a", "text": "亲,在的"}))
    assert len(listener.received) == 1
