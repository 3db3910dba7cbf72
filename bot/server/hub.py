"""The open pages: agent consoles and customer demo pages, and the events pushed to them over WebSockets."""

from __future__ import annotations

import json
from typing import Any

from starlette.websockets import WebSocket


class Hub:
    """Every agent page sees every conversation; a customer page sees only its own."""

    def __init__(self) -> None:
        self.agents: set[WebSocket] = set()
        self.customers: dict[str, set[WebSocket]] = {}

    async def _send(self, sockets: set[WebSocket], event: dict[str, Any]) -> None:
        text = json.dumps(event, ensure_ascii=False)
        for socket in list(sockets):
            try:
                await socket.send_text(text)
            except Exception:  # a page that went away: forget it, keep serving the others
                sockets.discard(socket)

    async def to_agents(self, event: dict[str, Any]) -> None:
        await self._send(self.agents, event)

    async def to_customer(self, conversation_id: str, event: dict[str, Any]) -> None:
        await self._send(self.customers.get(conversation_id, set()), event)
