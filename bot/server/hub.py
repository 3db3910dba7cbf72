"""The open pages: agent consoles and customer demo pages, each tied to its login session, and the events pushed to them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, Awaitable, Callable

from starlette.websockets import WebSocket

logger = logging.getLogger(__name__)
AGENTS, CUSTOMER = "agents", "customer:"  # the targets of an event: every agent page, or one conversation's customer page
SEND_TIMEOUT_S = 5.0
SLOW_PAGE = 1013  # try again later: the page could not keep up
SESSION_ENDED = 1008  # policy violation: the page's login ended (logout, account removed, new password, expiry)


class Hub:
    """An agent page sees the conversations of the shops its account serves (an admin's, every one); a customer page
    sees only its own conversation, and only while that belongs to a shop its account serves (a page may open on an id
    that no conversation has yet: the first message gives it a shop)."""

    def __init__(self) -> None:
        self.agents: dict[WebSocket, frozenset[str] | None] = {}  # each agent page's shops (None: every shop)
        self.customers: dict[str, dict[WebSocket, frozenset[str] | None]] = {}  # each conversation's pages, with their shops
        self.sessions: dict[WebSocket, str] = {}  # each open page's session key
        # also hands each event to the other server processes (bot.server.relay); None: this process is alone
        self.publish: Callable[[str, dict[str, Any]], Awaitable[None]] | None = None

    def join(self, socket: WebSocket, session: str, conversation_id: str | None = None, shops: frozenset[str] | None = None) -> None:
        """A page opened: an agent console (no conversation) or the customer page of one conversation; it sees these shops."""
        self.sessions[socket] = session
        if conversation_id:
            self.customers.setdefault(conversation_id, {})[socket] = shops
        else:
            self.agents[socket] = shops

    def leave(self, socket: WebSocket) -> None:
        """A page went away: forget it, and its conversation's set once empty."""
        self.sessions.pop(socket, None)
        self.agents.pop(socket, None)
        for conversation_id, sockets in list(self.customers.items()):
            if socket in sockets:
                del sockets[socket]
                if not sockets:
                    del self.customers[conversation_id]

    async def close_ended(self, live: Callable[[set[str]], Awaitable[set[str]]]) -> int:
        """Close (1008) the pages whose session is no longer among `live(keys)`; returns how many."""
        if not self.sessions:
            return 0
        asked = set(self.sessions.values())  # a page that opens while the database answers is judged next time
        alive = await live(asked)
        ended = [socket for socket, key in list(self.sessions.items()) if key in asked and key not in alive]
        for socket in ended:
            self.leave(socket)
        await asyncio.gather(*(_close(socket, SESSION_ENDED) for socket in ended))
        return len(ended)

    async def _send(self, sockets: set[WebSocket], event: dict[str, Any]) -> None:
        """To every page at once; a page that is gone, or too slow to take it within SEND_TIMEOUT_S, is dropped
        (it reloads what it missed), so one slow network never holds up the others."""
        text = json.dumps(event, ensure_ascii=False)

        async def one(socket: WebSocket) -> None:
            try:
                await asyncio.wait_for(socket.send_text(text), timeout=SEND_TIMEOUT_S)
            except Exception:
                self.leave(socket)
                await _close(socket, SLOW_PAGE)

        await asyncio.gather(*(one(socket) for socket in list(sockets)))

    async def to_agents(self, event: dict[str, Any]) -> None:
        """To the agent pages that serve the event's shop (`event["shop"]`), on every process."""
        await self._everywhere(AGENTS, event)

    async def to_customer(self, conversation_id: str, event: dict[str, Any]) -> None:
        await self._everywhere(CUSTOMER + conversation_id, event)

    async def deliver(self, target: str, event: dict[str, Any]) -> None:
        """Send an event to this process's pages of `target` ("agents" or "customer:<conversation id>")."""
        if target == AGENTS:
            pages = self.agents
        elif target.startswith(CUSTOMER):
            pages = self.customers.get(target[len(CUSTOMER):], {})
        else:
            return
        shop = event.get("shop")
        await self._send({s for s, shops in pages.items() if shops is None or shop in shops}, event)

    async def _everywhere(self, target: str, event: dict[str, Any]) -> None:
        await self.deliver(target, event)
        if self.publish is not None:
            try:
                await self.publish(target, event)
            except Exception as exc:  # the other processes' pages miss it live; the database has it for their reload
                logger.warning("could not relay a live event: %s", exc)


async def _close(socket: WebSocket, code: int) -> None:
    """Close a page's socket, waiting a second at most for its close handshake (a dead page never answers)."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(socket.close(code=code), timeout=1.0)
