"""The open pages: agent consoles and customer demo pages, each tied to its login session, and the events pushed to them."""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

from starlette.websockets import WebSocket

SESSION_ENDED = 1008  # policy violation: the page's login ended (logout, account removed, new password, expiry)


class Hub:
    """Every agent page sees every conversation; a customer page sees only its own."""

    def __init__(self) -> None:
        self.agents: set[WebSocket] = set()
        self.customers: dict[str, set[WebSocket]] = {}
        self.sessions: dict[WebSocket, str] = {}  # each open page's session key

    def join(self, socket: WebSocket, session: str, conversation_id: str | None = None) -> None:
        """A page opened: an agent console (no conversation) or the customer page of one conversation."""
        self.sessions[socket] = session
        (self.customers.setdefault(conversation_id, set()) if conversation_id else self.agents).add(socket)

    def leave(self, socket: WebSocket) -> None:
        """A page went away: forget it, and its conversation's set once empty."""
        self.sessions.pop(socket, None)
        self.agents.discard(socket)
        for conversation_id, sockets in list(self.customers.items()):
            if socket in sockets:
                sockets.discard(socket)
                if not sockets:
                    del self.customers[conversation_id]

    async def close_ended(self, live: Callable[[set[str]], Awaitable[set[str]]]) -> int:
        """Close (1008) the pages whose session is no longer among `live(keys)`; returns how many."""
        if not self.sessions:
            return 0
        alive = await live(set(self.sessions.values()))
        ended = [socket for socket, key in list(self.sessions.items()) if key not in alive]
        for socket in ended:
            self.leave(socket)
            try:
                await socket.close(code=SESSION_ENDED)
            except Exception:  # already gone
                pass
        return len(ended)

    async def _send(self, sockets: set[WebSocket], event: dict[str, Any]) -> None:
        text = json.dumps(event, ensure_ascii=False)
        for socket in list(sockets):
            try:
                await socket.send_text(text)
            except Exception:  # a page that went away: forget it, keep serving the others
                self.leave(socket)

    async def to_agents(self, event: dict[str, Any]) -> None:
        await self._send(self.agents, event)

    async def to_customer(self, conversation_id: str, event: dict[str, Any]) -> None:
        await self._send(self.customers.get(conversation_id, set()), event)
