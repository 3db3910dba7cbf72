"""The web app (Starlette): agent console, customer demo page, JSON API and WebSockets; it only calls the engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from bot.conversations import CONVERSATION_ID, FEEDBACK_EVENTS, ConversationStore, edit_distance
from bot.errors import MessageError
from bot.kb.template import VARIABLE, fill
from bot.rules import check_reply
from bot.server.hub import Hub
from bot.suggest import Engine, check_message

STATIC = Path(__file__).with_name("static")
MAX_BODY_BYTES = 64 * 1024
CONTEXT_TURNS = 6


class ApiError(HTTPException):
    pass


async def _json_body(request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, f"request body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}")
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ApiError(400, "request body is not UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"request body is not JSON: {exc.msg} at position {exc.pos}") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "request body must be a JSON object")
    return data


def _conversation_id(request: Request) -> str:
    conversation_id = request.path_params["conversation_id"]
    if not CONVERSATION_ID.match(conversation_id):
        raise ApiError(400, "conversation id must be 1-64 letters (any script), digits, '_', '.', ':' or '-'")
    return conversation_id


def _optional_int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"'{key}' must be an integer")
    return value


def _optional_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"'{key}' must be a string")
    return value


class Console:
    """Request handlers bound to one engine, one conversation store and one hub of open pages."""

    def __init__(self, engine: Engine, store: ConversationStore) -> None:
        self.engine = engine
        self.store = store
        self.hub = Hub()

    def _context(self, conversation_id: str, before: int | None = None) -> list[dict[str, str]]:
        messages = self.store.messages(conversation_id, limit=CONTEXT_TURNS + 1)
        return [{"role": m.role, "text": m.text} for m in messages if before is None or m.id < before][-CONTEXT_TURNS:]

    def _suggest(self, text: str, conversation_id: str | None, before: int | None = None) -> dict[str, Any]:
        context = self._context(conversation_id, before) if conversation_id else None
        try:
            return self.engine.suggest(text, context=context).to_dict()
        except MessageError as exc:
            raise ApiError(422, str(exc)) from exc

    async def customer_message(self, request: Request) -> Response:
        conversation_id = _conversation_id(request)
        data = await _json_body(request)
        try:
            text = check_message(data.get("text"), self.engine.settings.limits.max_message_chars)
        except MessageError as exc:
            raise ApiError(422, str(exc)) from exc
        message = await run_in_threadpool(self.store.add_message, conversation_id, "customer", text)
        suggestion = await run_in_threadpool(self._suggest, text, conversation_id, message.id)
        shown = [
            {"conversation_id": conversation_id, "message_id": message.id, "event": "shown", "entry_id": s["id"], "rank": rank, "score": s["score"]}
            for rank, s in enumerate(suggestion["suggestions"], 1)
        ]
        await run_in_threadpool(self.store.add_feedback, shown)
        payload = {"conversation_id": conversation_id, "message": message.to_dict(), "suggestion": suggestion}
        await self.hub.to_agents({"type": "customer_message", **payload})
        return JSONResponse(payload, status_code=201)

    async def agent_reply(self, request: Request) -> Response:
        conversation_id = _conversation_id(request)
        data = await _json_body(request)
        text = _optional_str(data, "text")
        if text is None or not text.strip():
            raise ApiError(422, "reply text is empty")
        if len(text) > 4000:
            raise ApiError(422, f"reply is {len(text)} characters; the limit is 4000")
        leftover = VARIABLE.findall(text)
        if leftover:
            raise ApiError(422, f"reply still has unfilled variable(s): {', '.join('{' + v + '}' for v in leftover)}")
        if not self.store.exists(conversation_id):
            raise ApiError(404, f"no conversation '{conversation_id}'")
        reply_to = _optional_int(data, "message_id")
        entry_id = _optional_str(data, "entry_id")
        rank = _optional_int(data, "rank")
        suggested_text = _optional_str(data, "suggested_text")
        message = await run_in_threadpool(self.store.add_message, conversation_id, "agent", text.strip())
        rows = self._reply_feedback(conversation_id, reply_to, entry_id, rank, suggested_text, message.text)
        await run_in_threadpool(self.store.add_feedback, rows)
        payload = {"conversation_id": conversation_id, "message": message.to_dict()}
        await self.hub.to_customer(conversation_id, {"type": "agent_message", **payload})
        await self.hub.to_agents({"type": "agent_message", **payload})
        return JSONResponse({**payload, "feedback": len(rows)}, status_code=201)

    def _reply_feedback(
        self, conversation_id: str, reply_to: int | None, entry_id: str | None, rank: int | None, suggested: str | None, final: str
    ) -> list[dict[str, Any]]:
        base = {"conversation_id": conversation_id, "message_id": reply_to}
        rows: list[dict[str, Any]] = []
        shown = [r for r in self.store.feedback(conversation_id) if r["event"] == "shown" and r["message_id"] == reply_to]
        if entry_id:
            rows.append({**base, "event": "picked", "entry_id": entry_id, "rank": rank})
            if suggested is not None and suggested != final:
                rows.append({**base, "event": "edited", "entry_id": entry_id, "rank": rank, "final_text": final, "edit_distance": edit_distance(suggested, final)})
        rows += [{**base, "event": "ignored", "entry_id": r["entry_id"], "rank": r["rank"]} for r in shown if r["entry_id"] != entry_id]
        rows.append({**base, "event": "sent", "entry_id": entry_id, "rank": rank, "final_text": final})
        return rows

    async def feedback(self, request: Request) -> Response:
        data = await _json_body(request)
        conversation_id = _optional_str(data, "conversation_id")
        if not conversation_id or not CONVERSATION_ID.match(conversation_id):
            raise ApiError(400, "'conversation_id' is required")
        event = data.get("event")
        if event not in FEEDBACK_EVENTS:
            raise ApiError(400, f"'event' must be one of {', '.join(FEEDBACK_EVENTS)}")
        final_text = _optional_str(data, "final_text")
        row = {
            "conversation_id": conversation_id,
            "message_id": _optional_int(data, "message_id"),
            "event": event,
            "entry_id": _optional_str(data, "entry_id"),
            "rank": _optional_int(data, "rank"),
            "final_text": final_text,
        }
        await run_in_threadpool(self.store.add_feedback, [row])
        return JSONResponse({"stored": 1}, status_code=201)

    async def suggest(self, request: Request) -> Response:
        query = request.query_params.get("q")
        if query is None:
            raise ApiError(400, "query parameter 'q' is required")
        conversation_id = request.query_params.get("conversation_id")
        return JSONResponse(await run_in_threadpool(self._suggest, query, conversation_id))

    async def kb_search(self, request: Request) -> Response:
        query = (request.query_params.get("q") or "").strip()
        if not query:
            return JSONResponse({"results": []})
        if len(query) > 200:
            raise ApiError(422, "search text is longer than 200 characters")
        index = self.engine.index
        hits = await run_in_threadpool(index.search, query, 8) if index is not None else []
        shop = self.engine.kb.shop
        results = [
            {"id": h.entry.id, "intent": h.entry.intent, "text": fill(h.entry.answer, shop).text, "matched_question": h.matched, "score": round(h.score, 4)}
            for h in hits
        ]
        return JSONResponse({"results": results})

    async def check(self, request: Request) -> Response:
        data = await _json_body(request)
        text = _optional_str(data, "text") or ""
        approved = [e.answer for e in self.engine.kb.approved()]
        warnings = [{"rule": w.rule, "message": w.message} for w in check_reply(text, approved)] if text.strip() else []
        leftover = VARIABLE.findall(text)
        return JSONResponse({"warnings": warnings, "leftover_variables": leftover, "can_send": bool(text.strip()) and not leftover})

    async def conversations(self, request: Request) -> Response:
        return JSONResponse({"conversations": await run_in_threadpool(self.store.conversations)})

    async def messages(self, request: Request) -> Response:
        conversation_id = _conversation_id(request)
        messages = await run_in_threadpool(self.store.messages, conversation_id)
        return JSONResponse({"conversation_id": conversation_id, "messages": [m.to_dict() for m in messages]})

    async def health(self, request: Request) -> Response:
        return JSONResponse({"ok": True, "entries": len(self.engine.index or ())})

    async def agent_socket(self, websocket: WebSocket) -> None:
        await self._hold(websocket, self.hub.agents)

    async def customer_socket(self, websocket: WebSocket) -> None:
        conversation_id = websocket.path_params["conversation_id"]
        if not CONVERSATION_ID.match(conversation_id):
            await websocket.close(code=1008)
            return
        await self._hold(websocket, self.hub.customers.setdefault(conversation_id, set()))

    @staticmethod
    async def _hold(websocket: WebSocket, sockets: set[WebSocket]) -> None:
        """Keep a page's socket in its set until the page goes away; pages only listen."""
        await websocket.accept()
        sockets.add(websocket)
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            sockets.discard(websocket)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code)


def create_app(engine: Engine, store: ConversationStore) -> Starlette:
    """The app factory: one console over one engine."""
    console = Console(engine, store)

    def page(name: str):  # type: ignore[no-untyped-def]
        async def serve(request: Request) -> Response:
            return FileResponse(STATIC / name, headers={"Cache-Control": "no-cache"})

        return serve

    async def home(request: Request) -> Response:
        return RedirectResponse("/agent")

    routes = [
        Route("/", home),
        Route("/agent", page("agent.html")),
        Route("/customer", page("customer.html")),
        Route("/api/health", console.health),
        Route("/api/conversations", console.conversations),
        Route("/api/conversations/{conversation_id}/messages", console.messages, methods=["GET"]),
        Route("/api/conversations/{conversation_id}/messages", console.customer_message, methods=["POST"]),
        Route("/api/conversations/{conversation_id}/replies", console.agent_reply, methods=["POST"]),
        Route("/api/feedback", console.feedback, methods=["POST"]),
        Route("/api/suggest", console.suggest),
        Route("/api/kb/search", console.kb_search),
        Route("/api/check", console.check, methods=["POST"]),
        WebSocketRoute("/ws/agent", console.agent_socket),
        WebSocketRoute("/ws/customer/{conversation_id}", console.customer_socket),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _api_error})
    app.state.console = console
    return app
