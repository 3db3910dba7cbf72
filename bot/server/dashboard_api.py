"""The team lead's dashboard over HTTP: `/api/dashboard?since=7d&until=...&shop=...&sort=...&limit=&offset=` (editors and
admins; per-agent figures for admins only; an editor's figures count only the shops it serves). The figures come from
bot.dashboard, off the event loop."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.dashboard import PeriodError, dashboard, period_of
from bot.server.access import principal_of
from bot.server.http import ApiError, page_of
from bot.shops import ShopError, check_name


class DashboardApi:
    """One endpoint over the database the conversations and their feedback live in."""

    def __init__(self, db: Engine) -> None:
        self.db = db

    async def figures(self, request: Request) -> Response:
        query = request.query_params
        page = page_of(request, default=50, most=500)
        principal = principal_of(request)
        if principal is None:
            raise ApiError(401, "log in first")
        per_agent = principal.can("admin")
        try:
            shop = check_name(query["shop"]) if query.get("shop") else None
        except ShopError as exc:
            raise ApiError(422, str(exc)) from exc
        if shop is not None and not principal.serves(shop):
            raise ApiError(403, f"{principal.name} does not serve shop '{shop}'")
        shops = (shop,) if shop else (None if principal.every_shop else tuple(sorted(principal.shops)))
        try:
            period = period_of(query.get("since") or None, query.get("until") or None, shops=shops)
            data = await run_in_threadpool(dashboard, self.db, period, per_agent, query.get("sort") or "shown", page.limit, page.offset)
        except PeriodError as exc:  # a bad range or sort: the message names it
            raise ApiError(400, str(exc)) from exc
        return JSONResponse(data)
