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
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from bot.auth import AuthStore
from bot.conversations import ConversationStore
from bot.server.access import AuthMiddleware, Endpoint, Login, guard, guard_socket, principal_of
from bot.server.console import Console
from bot.server.dashboard_api import DashboardApi
from bot.server.editor_api import EditorApi
from bot.server.headers import SecurityHeaders
from bot.server.http import api_error, page_of
from bot.server.hub import Hub
from bot.server.relay import Relay, relays
from bot.shop_engines import ShopEngines
from bot.suggest import Engine

logger = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")
PRUNE_EVERY_S = 3600


def _background(engines: ShopEngines, store: ConversationStore, hub: Hub, auth: AuthStore, interval: float) -> Callable[[Starlette], AsyncIterator[None]]:
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

    async def catch_up() -> None:
        await run_in_threadpool(engines.catch_up)

    async def close_ended() -> None:
        await hub.close_ended(lambda keys: run_in_threadpool(auth.live_sessions, keys))

    async def prune() -> None:
        days = engines.settings.retention.days
        if days:
            gone = await run_in_threadpool(store.prune, days)
            if any(gone.values()):
                logger.info("retention (%g days): deleted %s", days, gone)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        relay = Relay(store.db) if relays(store.db) else None
        if relay is not None:  # several processes on one PostgreSQL: live pages see every process's events
            relay.start(asyncio.get_running_loop(), hub.deliver)
            hub.publish = lambda target, event: run_in_threadpool(relay.publish, target, event)
        tasks = [
            asyncio.create_task(every(interval, catch_up, "KB catch-up")),
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
    """The app factory: the agent console and the editor pages over the shops' engines (`engine` is the default
    shop's, loaded at start; the others load on first use), each route behind its role."""
    engines = ShopEngines(engine)
    console = Console(engines, store)
    editor = EditorApi(engines)
    auth = auth or AuthStore(engine.settings.db_url)
    login = Login(auth, engine.settings.auth)
    dashboard_api = DashboardApi(store.db)

    def page(name: str, permission: str):  # type: ignore[no-untyped-def]
        async def serve(request: Request) -> Response:
            return FileResponse(STATIC / name, headers={"Cache-Control": "no-cache"})

        return guard(permission, serve, page=True)

    async def favicon(request: Request) -> Response:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})

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
        Route("/favicon.ico", favicon),
        Route("/login", login.page, methods=["GET"]),
        Route("/login", login.login, methods=["POST"]),
        Route("/logout", login.logout, methods=["POST"]),
        Route("/password", login.password_page, methods=["GET"]),
        Route("/password", login.change_password, methods=["POST"]),
        Route("/agent", page("agent.html", "console")),
        Route("/customer", page("customer.html", "console")),
        Route("/editor", page("editor.html", "edit")),
        Route("/dashboard", page("dashboard.html", "dashboard")),
        Route("/api/health", console.health),
        Route("/api/me", login.me),
        # the conversation API: what an integration (API token) needs, and the console uses
        api("/api/conversations", console.conversations, "converse"),
        api(conversation + "/messages", console.messages, "converse", ["GET"]),
        api(conversation + "/messages", console.customer_message, "converse", ["POST"]),
        api(conversation + "/replies", console.agent_reply, "converse", ["POST"]),
        api(conversation + "/pending", console.pending, "converse", ["GET"]),
        api(conversation + "/messages/{message_id}/suggestion", console.message_suggestion, "converse", ["GET"]),
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
        api(entry + "/history", editor.get_entry, "edit", ["GET"]),
        api("/api/kb/review", editor.review, "edit", ["POST"]),
        api("/api/kb/similar", editor.similar, "edit"),
        api("/api/kb/export.csv", editor.export_csv, "edit"),
        api("/api/kb/import", editor.import_csv, "edit", ["POST"]),
        api("/api/kb/nlu", editor.write_nlu, "edit", ["POST"]),
        api("/api/traffic/clusters", editor.clusters, "edit"),
        api("/api/traffic/accept", editor.accept, "edit", ["POST"]),
        api("/api/traffic/dismiss", editor.dismiss, "edit", ["POST"]),
        api("/api/users", users_endpoint(auth), "admin"),
        api("/api/dashboard", dashboard_api.figures, "dashboard", ["GET"]),
        WebSocketRoute("/ws/agent", guard_socket("console", console.agent_socket)),
        WebSocketRoute("/ws/customer/{conversation_id}", guard_socket("console", console.customer_socket)),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders), Middleware(AuthMiddleware, store=auth)],
        exception_handlers={HTTPException: api_error},
        lifespan=_background(engines, store, console.hub, auth, poll_interval),
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
