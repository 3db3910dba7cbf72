"""Who may call what: the middleware that finds the caller, route guards (roles, CSRF), login and logout."""

from __future__ import annotations

import asyncio
import functools
import html
import math
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qs, quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from bot.auth import MAX_PASSWORD, MIN_PASSWORD, AuthError, AuthStore, Principal, same_secret
from bot.server.http import ApiError, read_body
from bot.server.throttle import LoginThrottle
from bot.settings import AuthSettings

SESSION_COOKIE = "kefu_session"  # HttpOnly: page scripts never see the session token
CSRF_COOKIE = "kefu_csrf"  # readable by the pages' scripts, which echo it in X-CSRF-Token
LOGIN_COOKIE = "kefu_login"  # the login form's own CSRF token (double submit)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOCAL_PATH = re.compile(r"^/(?![/\\])[\w\-./#?=&%]*\Z")
LOGIN_PAGE = Path(__file__).with_name("static") / "login.html"
PASSWORD_PAGE = Path(__file__).with_name("static") / "password.html"

Endpoint = Callable[[Request], Awaitable[Response]]
FORBIDDEN_PAGE = (
    '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>没有权限</title>'
    '<link rel="stylesheet" href="/static/console.css"><body class="login"><div class="login-box">'
    "<h1>没有权限</h1><p>{name} 的角色是 {role}，不能打开这个页面。</p>"
    '<p><a href="/agent">回到客服工作台</a> · <a href="/login">换个账号登录</a></p></div></body></html>'
)


class AuthMiddleware:
    """Puts the caller on `request.state.principal`: a session cookie, or (for /api/ only) a bearer token; else None."""

    def __init__(self, app: ASGIApp, store: AuthStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            # static assets are public: no database lookup for each script and stylesheet
            public = scope["path"].startswith("/static/")
            scope.setdefault("state", {})["principal"] = None if public else await run_in_threadpool(self._principal, HTTPConnection(scope))
        await self.app(scope, receive, send)

    def _principal(self, connection: HTTPConnection) -> Principal | None:
        cookie = connection.cookies.get(SESSION_COOKIE)
        if cookie:
            found = self.store.session(cookie)
            if found is not None:
                return found
        header = connection.headers.get("authorization", "")
        if connection.url.path.startswith("/api/") and header.lower().startswith("bearer "):
            return self.store.token(header[7:].strip())
        return None


def principal_of(connection: HTTPConnection) -> Principal | None:
    return getattr(connection.state, "principal", None)


def session_key_of(connection: HTTPConnection) -> str:
    """The key of the caller's login session (what the database keeps of the cookie), for tying pages to it."""
    return AuthStore.session_key(connection.cookies.get(SESSION_COOKIE, ""))


def require_csrf(request: Request, principal: Principal) -> None:
    """A cookie-authenticated change must echo the session's CSRF token; bearer tokens carry no ambient authority."""
    if principal.via == "session" and not same_secret(request.headers.get("x-csrf-token", ""), principal.csrf):
        raise ApiError(403, "missing or wrong CSRF token (reload the page)")


def guard(permission: str, endpoint: Endpoint, page: bool = False) -> Endpoint:
    """The endpoint, for callers with this permission only; cookie callers must send the CSRF token to change anything.

    Pages (HTML) open for logged-in people only, never for API tokens; an anonymous visitor is sent to
    the login page, an anonymous API call gets 401.
    """

    async def guarded(request: Request) -> Response:
        principal = principal_of(request)
        if page and (principal is None or principal.via != "session"):
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        if principal is None:
            raise ApiError(401, "log in first (or send an API token: Authorization: Bearer ...)")
        if principal.must_change_password:
            if page:
                return RedirectResponse("/password", status_code=303)
            raise ApiError(403, "choose your own password first (/password)")
        if not principal.can(permission):
            if page:
                return HTMLResponse(FORBIDDEN_PAGE.format(name=html.escape(principal.name), role=principal.role), status_code=403)
            raise ApiError(403, f"the {principal.role} role may not do this ({permission})")
        if request.method not in SAFE_METHODS:
            require_csrf(request, principal)
        return await endpoint(request)

    return guarded


def guard_socket(permission: str, handler: Callable[[WebSocket], Awaitable[None]]) -> Callable[[WebSocket], Awaitable[None]]:
    """WebSockets for logged-in pages of this origin only (cookies are SameSite, and the Origin must match)."""

    async def guarded(websocket: WebSocket) -> None:
        principal = principal_of(websocket)
        origin = websocket.headers.get("origin")
        same_origin = origin is None or origin.split("://", 1)[-1] == websocket.headers.get("host")
        if principal is None or principal.via != "session" or principal.must_change_password or not principal.can(permission) or not same_origin:
            await websocket.close(code=1008)
            return
        await handler(websocket)

    return guarded


def _cookie(response: Response, name: str, value: str, max_age: int, secure: bool, http_only: bool = True) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=http_only, samesite="strict", secure=secure)


async def _form_fields(request: Request) -> dict[str, str]:
    """A small urlencoded form (login, new password): its first value of each field; {} when unreadable."""
    body = await read_body(request, limit=8192)
    try:
        return {k: v[0] for k, v in parse_qs(body.decode("utf-8"), max_num_fields=8).items()}
    except (UnicodeDecodeError, ValueError):
        return {}


@functools.lru_cache(maxsize=None)
def _page(path: Path) -> str:
    """A page template, read once (not from disk on each request)."""
    return path.read_text(encoding="utf-8")


def _address(request: Request) -> str:
    """The client's address (the proxy's X-Forwarded-For when it is on loopback: uvicorn applies it)."""
    return request.client.host if request.client else "unknown"


def _home(role: str) -> str:
    return "/editor" if role == "editor" else "/agent"


def _safe_next(target: str | None) -> str:
    return target if target and LOCAL_PATH.match(target) else "/"


class Login:
    """GET/POST /login, POST /logout and GET /api/me."""

    def __init__(self, store: AuthStore, settings: AuthSettings) -> None:
        self.store = store
        self.settings = settings
        self.throttle = LoginThrottle(
            settings.login_failures_per_account, settings.login_failures_per_address, settings.login_window_minutes * 60
        )
        # argon2 on its own few threads: a flood of logins queues here, not in the pool every request's session lookup uses
        self._hashing = ThreadPoolExecutor(max_workers=settings.hashing_threads, thread_name_prefix="password-hashing")

    def _secure(self, request: Request) -> bool:
        """Cookies only over HTTPS: when configured, or when the request came over TLS (directly, or through a proxy
        on loopback that says so in X-Forwarded-Proto, which uvicorn trusts from 127.0.0.1)."""
        return self.settings.secure_cookies or request.url.scheme == "https"

    def _form(self, request: Request, next_path: str, error: str = "", status: int = 200) -> Response:
        token = secrets.token_urlsafe(24)
        page = (
            _page(LOGIN_PAGE)
            .replace("{{csrf}}", token)
            .replace("{{next}}", html.escape(next_path, quote=True))
            .replace("{{error}}", html.escape(error))
        )
        response = HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})
        _cookie(response, LOGIN_COOKIE, token, 600, self._secure(request))
        return response

    async def page(self, request: Request) -> Response:
        return self._form(request, _safe_next(request.query_params.get("next")))

    async def login(self, request: Request) -> Response:
        form = await _form_fields(request)
        next_path = _safe_next(form.get("next"))
        if not same_secret(form.get("csrf", ""), request.cookies.get(LOGIN_COOKIE, "")):
            return self._form(request, next_path, "登录页已过期，请重新输入。", status=403)
        name, password = form.get("name", "").strip(), form.get("password", "")
        address = _address(request)
        wait = self.throttle.attempt(name, address)  # counted before hashing: a burst cannot pass the check together
        if wait:
            return self._too_many(self._form(request, next_path, f"登录失败次数太多，请 {math.ceil(wait / 60)} 分钟后再试。", status=429), wait)
        role = await asyncio.get_running_loop().run_in_executor(self._hashing, self.store.verify, name, password)
        if role is None:
            return self._form(request, next_path, "账号或密码不对。", status=401)
        self.throttle.succeeded(name, address)
        token, csrf = await run_in_threadpool(self.store.start_session, name, self.settings.session_hours)
        must_change = await run_in_threadpool(self.store.password_change_due, name)
        target = "/password" if must_change else next_path if next_path != "/" else _home(role)
        response = RedirectResponse(target, status_code=303)
        self._set_session(request, response, token, csrf)
        response.delete_cookie(LOGIN_COOKIE, path="/")
        return response

    def _set_session(self, request: Request, response: Response, token: str, csrf: str) -> None:
        max_age = int(self.settings.session_hours * 3600)
        _cookie(response, SESSION_COOKIE, token, max_age, self._secure(request))
        _cookie(response, CSRF_COOKIE, csrf, max_age, self._secure(request), http_only=False)

    @staticmethod
    def _too_many(response: Response, wait: int) -> Response:
        response.headers["Retry-After"] = str(wait)
        return response

    def _password_form(self, principal: Principal, error: str = "", status: int = 200) -> Response:
        page = (
            _page(PASSWORD_PAGE)
            .replace("{{name}}", html.escape(principal.name))
            .replace("{{csrf}}", html.escape(principal.csrf, quote=True))
            .replace("{{error}}", html.escape(error))
        )
        return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})

    async def password_page(self, request: Request) -> Response:
        """GET /password: a logged-in person chooses a new password (required after the first admin's login)."""
        principal = principal_of(request)
        if principal is None or principal.via != "session":
            return RedirectResponse("/login?next=/password", status_code=303)
        return self._password_form(principal)

    async def change_password(self, request: Request) -> Response:
        """POST /password (a form): the current password, the new one twice; a fresh session on success."""
        principal = principal_of(request)
        if principal is None or principal.via != "session":
            return RedirectResponse("/login?next=/password", status_code=303)
        form = await _form_fields(request)
        if not same_secret(form.get("csrf", ""), principal.csrf):
            return self._password_form(principal, "页面已过期，请重新输入。", status=403)
        current, new = form.get("current", ""), form.get("new", "")
        problem = (
            "两次输入的新密码不一样。" if new != form.get("confirm", "")
            else f"新密码需要 {MIN_PASSWORD}-{MAX_PASSWORD} 个字符。" if not MIN_PASSWORD <= len(new) <= MAX_PASSWORD
            else "新密码要和当前密码不同。" if new == current
            else None
        )
        if problem:
            return self._password_form(principal, problem, status=400)
        address = _address(request)
        wait = self.throttle.attempt(principal.name, address)  # a stolen session must not guess the password freely
        if wait:
            return self._too_many(self._password_form(principal, f"尝试次数太多，请 {math.ceil(wait / 60)} 分钟后再试。", status=429), wait)
        try:
            await asyncio.get_running_loop().run_in_executor(self._hashing, self.store.change_password, principal.name, current, new)
        except AuthError:  # the checks above passed: the current password is wrong
            return self._password_form(principal, "当前密码不对。", status=400)
        self.throttle.succeeded(principal.name, address)
        token, csrf = await run_in_threadpool(self.store.start_session, principal.name, self.settings.session_hours)
        response = RedirectResponse(_home(principal.role), status_code=303)
        self._set_session(request, response, token, csrf)
        return response

    async def logout(self, request: Request) -> Response:
        principal = principal_of(request)
        if principal is not None and principal.via == "session":
            require_csrf(request, principal)
            await run_in_threadpool(self.store.end_session, request.cookies.get(SESSION_COOKIE, ""))
        response = JSONResponse({"logged_out": True})
        for name in (SESSION_COOKIE, CSRF_COOKIE):
            response.delete_cookie(name, path="/")
        return response

    async def me(self, request: Request) -> Response:
        principal = principal_of(request)
        if principal is None:
            raise ApiError(401, "not logged in")
        permissions = sorted(p for p in ("converse", "console", "edit", "admin") if principal.can(p))
        body: dict[str, Any] = {"name": principal.name, "role": principal.role, "via": principal.via, "permissions": permissions}
        return JSONResponse(body)
