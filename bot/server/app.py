"""The web app (Starlette): agent console, customer demo page, JSON API and WebSockets; it only calls the engine."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.middleware import Middleware
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from bot.auth import AuthStore
from bot.conversations import CONVERSATION_ID, FEEDBACK_EVENTS, ConversationStore, edit_distance
from bot.errors import MessageError
from bot.intents import load_intents
from bot.kb.editor import KBEditor
from bot.kb.template import VARIABLE, fill
from bot.rules import check_reply
from bot.server.access import AuthMiddleware, Endpoint, Login, guard, guard_socket, principal_of, session_key_of
from bot.server.http import ApiError, api_error, json_body, optional_int, optional_rank, optional_str, page_of
from bot.server.editor_api import EditorApi
from bot.server.headers import SecurityHeaders
from bot.server.hub import Hub
from bot.server.relay import Relay, relays
from bot.suggest import Engine, check_message
from bot.textcheck import check_text

logger = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")
CONTEXT_TURNS = 6


def _conversation_id(request: Request) -> str:
    conversation_id = request.path_params["conversation_id"]
    if not CONVERSATION_ID.match(conversation_id):
        raise ApiError(400, "conversation id must be 1-64 letters (any script), digits, '_', '.', ':' or '-'")
    return conversation_id


class Console:
    """Request handlers bound to one engine, one conversation store and one hub of open pages."""

    def __init__(self, engine: Engine, store: ConversationStore) -> None:
        self.engine = engine
        self.store = store
        self.hub = Hub()

    def _context(self, conversation_id: str, before: int | None = None) -> list[dict[str, str]]:
        """The last messages before `before`, each agent reply with the KB entry it started from (if any)."""
        messages = [m for m in self.store.messages(conversation_id, limit=CONTEXT_TURNS + 1) if before is None or m.id < before]
        messages = messages[-CONTEXT_TURNS:]
        customer_ids = [m.id for m in messages if m.role == "customer"]
        sent = {
            row["message_id"]: row["entry_id"]
            for row in self.store.feedback(conversation_id, event="sent", message_ids=customer_ids)
            if row.get("entry_id")
        }
        turns, answering = [], None
        for message in messages:
            turn = {"role": message.role, "text": message.text}
            if message.role == "customer":
                answering = message.id
            elif answering in sent:
                turn["entry_id"] = sent[answering]
            turns.append(turn)
        return turns

    def _suggest(self, text: str, conversation_id: str | None, before: int | None = None) -> dict[str, Any]:
        context = self._context(conversation_id, before) if conversation_id else None
        try:
            return self.engine.suggest(text, context=context).to_dict()
        except MessageError as exc:
            raise ApiError(422, str(exc)) from exc

    async def customer_message(self, request: Request) -> Response:
        conversation_id = _conversation_id(request)
        data = await json_body(request)
        try:
            text = check_message(data.get("text"), self.engine.settings.limits.max_message_chars)
        except MessageError as exc:
            raise ApiError(422, str(exc)) from exc
        message = await run_in_threadpool(self.store.add_message, conversation_id, "customer", text)
        suggestion = await run_in_threadpool(self._suggest, text, conversation_id, message.id)
        base = {"conversation_id": conversation_id, "message_id": message.id, "intent": suggestion["intent"]["name"]}
        shown = [
            {**base, "event": "shown", "entry_id": s["id"], "rank": rank, "score": s["score"]}
            for rank, s in enumerate(suggestion["suggestions"], 1)
        ]
        if suggestion["abstained"]:  # kept for the editors' "learning from traffic" page
            shown.append({**base, "event": "abstained"})
        await run_in_threadpool(self.store.add_feedback, shown)
        # the live console and the caller see the message as sent; the database keeps it with personal data masked
        payload = {"conversation_id": conversation_id, "message": {**message.to_dict(), "text": text}, "suggestion": suggestion}
        await self.hub.to_agents({"type": "customer_message", **payload})
        return JSONResponse(payload, status_code=201)

    async def agent_reply(self, request: Request) -> Response:
        conversation_id = _conversation_id(request)
        data = await json_body(request)
        limit = self.engine.settings.limits.max_reply_chars
        try:
            text = check_text(data.get("text"), "reply", limit)
        except MessageError as exc:
            raise ApiError(422, str(exc)) from exc
        leftover = VARIABLE.findall(text)
        if leftover:
            raise ApiError(422, f"reply still has unfilled variable(s): {', '.join('{' + v + '}' for v in leftover)}")
        reply_to = optional_int(data, "message_id")
        entry_id = optional_str(data, "entry_id")
        rank = optional_rank(data)
        suggested_text = optional_str(data, "suggested_text")
        if suggested_text is not None and len(suggested_text) > limit:  # the edit distance compares at most this much
            raise ApiError(422, f"'suggested_text' is {len(suggested_text)} characters; the limit is {limit}")
        message, stored = await run_in_threadpool(self._record_reply, conversation_id, text.strip(), reply_to, entry_id, rank, suggested_text)
        payload = {"conversation_id": conversation_id, "message": {**message.to_dict(), "text": text.strip()}}  # the buyer gets the reply as written
        await self.hub.to_customer(conversation_id, {"type": "agent_message", **payload})
        await self.hub.to_agents({"type": "agent_message", **payload})
        return JSONResponse({**payload, "feedback": stored}, status_code=201)

    def _check_message_of(self, conversation_id: str, message_id: int | None) -> None:
        """404 unless the conversation exists and holds this message (when one is named)."""
        if not self.store.exists(conversation_id):
            raise ApiError(404, f"no conversation '{conversation_id}'")
        if message_id is not None and not self.store.has_message(conversation_id, message_id):
            raise ApiError(404, f"no message {message_id} in conversation '{conversation_id}'")

    def _record_reply(
        self, conversation_id: str, final: str, reply_to: int | None, entry_id: str | None, rank: int | None, suggested: str | None
    ) -> tuple[Any, int]:
        """Store the agent's reply and its feedback (picked, edited with its edit distance, ignored, sent); off the loop."""
        self._check_message_of(conversation_id, reply_to)
        message = self.store.add_message(conversation_id, "agent", final)
        base = {"conversation_id": conversation_id, "message_id": reply_to}
        rows: list[dict[str, Any]] = []
        shown = self.store.feedback(conversation_id, event="shown", message_ids=[reply_to]) if reply_to is not None else []
        if entry_id:
            rows.append({**base, "event": "picked", "entry_id": entry_id, "rank": rank})
            if suggested is not None and suggested != final:
                rows.append({**base, "event": "edited", "entry_id": entry_id, "rank": rank, "final_text": final, "edit_distance": edit_distance(suggested, final)})
        rows += [{**base, "event": "ignored", "entry_id": r["entry_id"], "rank": r["rank"]} for r in shown if r["entry_id"] != entry_id]
        rows.append({**base, "event": "sent", "entry_id": entry_id, "rank": rank, "final_text": final})
        return message, self.store.add_feedback(rows)

    async def feedback(self, request: Request) -> Response:
        data = await json_body(request)
        conversation_id = optional_str(data, "conversation_id")
        if not conversation_id or not CONVERSATION_ID.match(conversation_id):
            raise ApiError(400, "'conversation_id' is required")
        event = data.get("event")
        if event not in FEEDBACK_EVENTS:
            raise ApiError(400, f"'event' must be one of {', '.join(FEEDBACK_EVENTS)}")
        final_text = optional_str(data, "final_text")
        if final_text is not None:
            try:
                final_text = check_text(final_text, "final_text", self.engine.settings.limits.max_reply_chars)
            except MessageError as exc:
                raise ApiError(422, str(exc)) from exc
        row = {
            "conversation_id": conversation_id,
            "message_id": optional_int(data, "message_id"),
            "event": event,
            "entry_id": optional_str(data, "entry_id"),
            "rank": optional_rank(data),
            "final_text": final_text,
        }
        await run_in_threadpool(self._store_feedback, row)
        return JSONResponse({"stored": 1}, status_code=201)

    def _store_feedback(self, row: dict[str, Any]) -> None:
        self._check_message_of(row["conversation_id"], row["message_id"])
        self.store.add_feedback([row])

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
        data = await json_body(request)
        text = optional_str(data, "text") or ""
        if len(text) > self.engine.settings.limits.max_reply_chars:
            raise ApiError(422, f"text is {len(text)} characters; the limit is {self.engine.settings.limits.max_reply_chars}")
        found = await run_in_threadpool(check_reply, text, self.engine.promised) if text.strip() else []
        warnings = [{"rule": w.rule, "message": w.message} for w in found]
        leftover = VARIABLE.findall(text)
        return JSONResponse({"warnings": warnings, "leftover_variables": leftover, "can_send": bool(text.strip()) and not leftover})

    async def conversations(self, request: Request) -> Response:
        page = page_of(request)

        def read() -> tuple[list[dict[str, Any]], int]:
            return self.store.conversations(page.limit, page.offset), self.store.count_conversations()

        found, total = await run_in_threadpool(read)
        return JSONResponse({"conversations": found, **page.of(found, total)})

    async def messages(self, request: Request) -> Response:
        """The last `limit` messages (default 200), oldest first; `before=ID` pages back, `next_before` says where."""
        conversation_id = _conversation_id(request)
        limit = page_of(request, default=200).limit
        before = request.query_params.get("before")
        if before is not None and (not before.isdigit() or len(before) > 15):
            raise ApiError(400, "'before' must be a message id")
        messages = await run_in_threadpool(self.store.messages, conversation_id, limit + 1, int(before) if before else None)
        older = len(messages) > limit
        messages = messages[-limit:]
        return JSONResponse({"conversation_id": conversation_id, "messages": [m.to_dict() for m in messages],
                             "limit": limit, "next_before": messages[0].id if older else None})

    async def health(self, request: Request) -> Response:
        return JSONResponse({"ok": True, "entries": len(self.engine.index or ()), "nlu_ready": self.engine.nlu_ready.is_set()})

    async def agent_socket(self, websocket: WebSocket) -> None:
        await self._hold(websocket, None)

    async def customer_socket(self, websocket: WebSocket) -> None:
        conversation_id = websocket.path_params["conversation_id"]
        if not CONVERSATION_ID.match(conversation_id):
            await websocket.close(code=1008)
            return
        await self._hold(websocket, conversation_id)

    async def _hold(self, websocket: WebSocket, conversation_id: str | None) -> None:
        """Keep a page's socket in the hub until the page goes away or its session ends; pages only listen."""
        await websocket.accept()
        self.hub.join(websocket, session_key_of(websocket), conversation_id)
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            self.hub.leave(websocket)


PRUNE_EVERY_S = 3600


def _background(engine: Engine, store: ConversationStore, hub: Hub, auth: AuthStore, interval: float) -> Callable[[Starlette], AsyncIterator[None]]:
    """While the app runs, every `interval` s: apply KB changes made elsewhere (the CLI, another server process), and
    close the open pages whose session ended (logout, account removed or given a new password, expiry), on any process;
    hourly (and at start): delete conversations past the retention limit."""

    async def every(interval: float, work: Callable[[], Awaitable[Any]], what: str, first: float | None = None) -> None:
        await asyncio.sleep(interval if first is None else first)
        while True:
            try:
                await work()
            except Exception as exc:  # a database hiccup must not stop the console; try again next time
                logger.warning("%s failed: %s", what, exc)
            await asyncio.sleep(interval)

    async def sync() -> None:
        await run_in_threadpool(engine.sync)

    async def close_ended() -> None:
        await hub.close_ended(lambda keys: run_in_threadpool(auth.live_sessions, keys))

    async def prune() -> None:
        days = engine.settings.retention.days
        if days:
            gone = await run_in_threadpool(store.prune, days)
            if any(gone.values()):
                logger.info("retention (%g days): deleted %s", days, gone)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        relay = Relay(store.engine) if relays(store.engine) else None
        if relay is not None:  # several processes on one PostgreSQL: live pages see every process's events
            relay.start(asyncio.get_running_loop(), hub.deliver)
            hub.publish = lambda target, event: run_in_threadpool(relay.publish, target, event)
        tasks = [
            asyncio.create_task(every(interval, sync, "KB sync")),
            asyncio.create_task(every(interval, close_ended, "session check")),
            asyncio.create_task(every(PRUNE_EVERY_S, prune, "retention prune", first=0.0)),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            if relay is not None:
                hub.publish = None
                await run_in_threadpool(relay.stop)

    return lifespan


def create_app(engine: Engine, store: ConversationStore, poll_interval: float = 0.5, auth: AuthStore | None = None) -> Starlette:
    """The app factory: the agent console and the editor pages over one engine, each route behind its role."""
    console = Console(engine, store)
    editor = EditorApi(engine, KBEditor(engine.store, load_intents(engine.settings.project_dir), lambda: engine.index))
    auth = auth or AuthStore(engine.settings.db_url)
    login = Login(auth, engine.settings.auth)

    def page(name: str, permission: str):  # type: ignore[no-untyped-def]
        async def serve(request: Request) -> Response:
            return FileResponse(STATIC / name, headers={"Cache-Control": "no-cache"})

        return guard(permission, serve, page=True)

    async def home(request: Request) -> Response:
        principal = principal_of(request)
        if principal is None:
            return RedirectResponse("/login", status_code=303)
        return RedirectResponse("/editor" if principal.role == "editor" else "/agent", status_code=303)

    def api(path: str, endpoint: Endpoint, permission: str, methods: list[str] | None = None) -> Route:
        return Route(path, guard(permission, endpoint), methods=methods)

    entry = "/api/kb/entries/{entry_id}"
    conversation = "/api/conversations/{conversation_id}"
    routes = [
        Route("/", home),
        Route("/login", login.page, methods=["GET"]),
        Route("/login", login.login, methods=["POST"]),
        Route("/logout", login.logout, methods=["POST"]),
        Route("/password", login.password_page, methods=["GET"]),
        Route("/password", login.change_password, methods=["POST"]),
        Route("/agent", page("agent.html", "console")),
        Route("/customer", page("customer.html", "console")),
        Route("/editor", page("editor.html", "edit")),
        Route("/api/health", console.health),
        Route("/api/me", login.me),
        # the conversation API: what an integration (API token) needs, and the console uses
        api("/api/conversations", console.conversations, "converse"),
        api(conversation + "/messages", console.messages, "converse", ["GET"]),
        api(conversation + "/messages", console.customer_message, "converse", ["POST"]),
        api(conversation + "/replies", console.agent_reply, "converse", ["POST"]),
        api("/api/feedback", console.feedback, "converse", ["POST"]),
        api("/api/suggest", console.suggest, "converse"),
        # the agent console's helpers
        api("/api/kb/search", console.kb_search, "console"),
        api("/api/check", console.check, "console", ["POST"]),
        # the knowledge editors
        api("/api/kb/meta", editor.meta, "edit"),
        api("/api/kb/entries", editor.list_entries, "edit", ["GET"]),
        api("/api/kb/entries", editor.create_entry, "edit", ["POST"]),
        api(entry, editor.get_entry, "edit", ["GET"]),
        api(entry, editor.update_entry, "edit", ["PUT"]),
        api(entry + "/approve", editor.approve, "edit", ["POST"]),
        api(entry + "/retire", editor.retire, "edit", ["POST"]),
        api(entry + "/discard", editor.discard, "edit", ["POST"]),
        api(entry + "/revert", editor.revert, "edit", ["POST"]),
        api(entry + "/variants", editor.add_variants, "edit", ["POST"]),
        api(entry + "/diff", editor.diff, "edit", ["GET"]),
        api("/api/kb/review", editor.review, "edit", ["POST"]),
        api("/api/kb/similar", editor.similar, "edit"),
        api("/api/kb/export.csv", editor.export_csv, "edit"),
        api("/api/kb/import", editor.import_csv, "edit", ["POST"]),
        api("/api/kb/nlu", editor.write_nlu, "edit", ["POST"]),
        api("/api/traffic/clusters", editor.clusters, "edit"),
        api("/api/traffic/accept", editor.accept, "edit", ["POST"]),
        api("/api/traffic/dismiss", editor.dismiss, "edit", ["POST"]),
        api("/api/users", users_endpoint(auth), "admin"),
        WebSocketRoute("/ws/agent", guard_socket("console", console.agent_socket)),
        WebSocketRoute("/ws/customer/{conversation_id}", guard_socket("console", console.customer_socket)),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders), Middleware(AuthMiddleware, store=auth)],
        exception_handlers={HTTPException: api_error},
        lifespan=_background(engine, store, console.hub, auth, poll_interval),
    )
    app.state.console = console
    app.state.limits = engine.settings.limits
    return app


def users_endpoint(auth: AuthStore) -> Endpoint:
    async def users(request: Request) -> Response:
        """Accounts and API tokens, one page of each (`limit`, `offset` apply to both)."""
        page = page_of(request)
        accounts, tokens = await run_in_threadpool(auth.users), await run_in_threadpool(auth.tokens)
        window = slice(page.offset, page.offset + page.limit)
        return JSONResponse({"users": accounts[window], "tokens": tokens[window], "users_page": page.of(accounts), "tokens_page": page.of(tokens)})

    return users
