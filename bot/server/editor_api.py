"""The knowledge editors' JSON API: entries, review, near-duplicates, history, import/export, traffic clusters.

Every route works on one shop's layer, `?shop=NAME` (default: the shop `default`; `common`: the layer every shop
inherits, which only an admin changes); an editor works on the shops it serves. Handlers only parse requests and call
the editor workflow (bot.kb.editor); after any change to what agents are suggested they call the shop's
`engine.catch_up()`, so the change is live before the response returns.
"""

from __future__ import annotations

from typing import Any, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot import traffic
from bot.errors import KBValidationError
from bot.intents import load_intents
from bot.kb.csv_io import dump_csv
from bot.kb.editor import FieldErrors, KBEditor, NearDuplicates
from bot.kb.nlu_export import NothingApproved, not_the_default_shop, write_kb_nlu
from bot.kb.records import (
    EntryNotFound,
    EntryRecord,
    ImportConflict,
    InvalidTransition,
    VersionConflict,
)
from bot.kb.sync import csv_for
from bot.server.access import principal_of
from bot.server.http import (
    ApiError,
    is_number,
    json_body,
    message_ids,
    optional_int,
    optional_str,
    optional_str_list,
    page_of,
    read_body,
)
from bot.shop_engines import ShopEngines
from bot.shops import COMMON, DEFAULT_SHOP, ShopError, check_name
from bot.shops import names as shop_names
from bot.suggest import Engine

TRAFFIC_PAGE = 50  # groups of missed messages a page
HISTORY_PAGE = 20  # versions of an entry a page (each accepted traffic variant adds two)


def _with_history(editor: KBEditor, entry_id: str, limit: int, before: int | None) -> dict[str, Any]:
    """The entry and a page of its versions, newest first, as the API answers them (EntryNotFound for no such entry)."""
    record = editor.get(entry_id)
    revisions, next_before, count = editor.store.history_page(entry_id, limit, before)
    page = {"count": count, "limit": limit, "next_before": next_before}
    return {"entry": record.to_dict(), "history": [r.to_dict() for r in revisions], "history_page": page}


def _history_params(request: Request) -> tuple[int, int | None]:
    """`?limit=` (versions a page, 20 by default) and `?before=` (the version the page starts below) of a history request."""
    limit = page_of(request, default=HISTORY_PAGE).limit
    raw = request.query_params.get("before")
    if raw is None or raw == "":
        return limit, None
    if not _is_version(raw) or int(raw) < 1:
        raise ApiError(400, "'before' must be a version number")
    return limit, int(raw)


def _traffic_params(request: Request) -> tuple[int, "traffic.Snapshot | None", tuple[int, int] | None]:
    """`?limit=` (groups a page, 50 by default), `?snapshot=` (the first page's `snapshot`) and `?after=` (the last
    page's `next_after`: a group's size and newest message id, "3.1042", with the snapshot it came from)."""
    if request.query_params.get("offset", "0") not in ("", "0"):
        raise ApiError(400, "'offset' does not page traffic groups: pass the first page's 'snapshot' and the last page's 'next_after' as 'after'")
    limit = page_of(request, default=TRAFFIC_PAGE, most=200).limit
    raw_snapshot, raw_after = request.query_params.get("snapshot") or None, request.query_params.get("after") or None
    try:
        snapshot = None if raw_snapshot is None else traffic.Snapshot.parse(raw_snapshot)
    except ValueError:
        raise ApiError(400, "'snapshot' must be the first page's 'snapshot', such as 120.1042.5531") from None
    if raw_after is None:
        return limit, snapshot, None
    try:
        after = traffic.parse_after(raw_after)
    except ValueError:
        raise ApiError(400, "'after' must be a page's 'next_after', such as 3.1042") from None
    if snapshot is None:
        raise ApiError(400, "'after' needs the 'snapshot' its page came from")
    return limit, snapshot, after


def _traffic_of(scope: "Scope") -> str | None:
    """Whose conversations an editor learns from: its shop's (the common layer's editors: every shop's)."""
    return None if scope.shop == COMMON else scope.shop


def _is_version(raw: str) -> bool:
    return is_number(raw) and len(raw) <= 9


def _author(request: Request) -> str:
    """Changes are recorded under the logged-in account (or the API token's name), never a name the request claims."""
    principal = principal_of(request)
    if principal is None:
        raise ApiError(401, "log in first")
    return principal.name


def _version(data: dict[str, Any], key: str = "base_version") -> int:
    version = optional_int(data, key)
    if version is None:
        raise ApiError(400, f"'{key}' is required (the version you loaded, so a concurrent save is detected)")
    return version


def _content(data: dict[str, Any]) -> dict[str, Any]:
    """The entry fields of a request, typed; their values are checked by the editor (errors by field)."""
    return {
        "intent": optional_str(data, "intent"),
        "tags": optional_str_list(data, "tags") or [],
        "questions": optional_str_list(data, "questions") or [],
        "answer": optional_str(data, "answer") or "",
    }


class Scope:
    """One request's shop: its engine (live updates, near-duplicate search) and an editor of its layer."""

    def __init__(self, engine: Engine, intents: tuple[str, ...]) -> None:
        self.engine = engine
        self.editor = KBEditor(engine.store, intents, lambda: engine.index)
        self.shop = engine.shop


class EditorApi:
    """Editor handlers over every shop's engine; each request names its shop (`?shop=`)."""

    def __init__(self, engines: ShopEngines) -> None:
        self.engines = engines
        self.settings = engines.settings
        self.intents = load_intents(engines.settings.project_dir)

    async def _scope(self, request: Request, write: bool = False, traffic: bool = False) -> Scope:
        """The shop the request names, if the caller may work on it (403 otherwise; 422 for no such shop). The common
        layer is every editor's to read, but only an admin's to change (`write`) or to learn from (`traffic`: its
        traffic is every shop's buyers' messages)."""
        principal = principal_of(request)
        if principal is None:
            raise ApiError(401, "log in first")
        try:
            shop = check_name(request.query_params.get("shop") or DEFAULT_SHOP, allow_common=True)
        except ShopError as exc:
            raise ApiError(422, str(exc)) from exc
        if shop == COMMON:
            if write and not principal.may_edit_common:
                raise ApiError(403, f"the '{COMMON}' layer reaches every shop: only an admin changes it")
            if traffic and not principal.may_edit_common:
                raise ApiError(403, f"the '{COMMON}' layer learns from every shop's buyers: only an admin reads them")
        elif not principal.serves(shop):
            raise ApiError(403, f"{principal.name} does not serve shop '{shop}'")
        try:
            engine = await run_in_threadpool(self.engines.get, shop)
        except ShopError as exc:
            raise ApiError(422, str(exc)) from exc
        return Scope(engine, self.intents)

    async def _call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run an editor operation off the event loop; its errors become 4xx answers that say what to do."""
        try:
            return await run_in_threadpool(function, *args, **kwargs)
        except FieldErrors as exc:
            raise ApiError(422, str(exc), fields=exc.problems) from exc
        except NearDuplicates as exc:
            raise ApiError(409, str(exc), near_duplicates=exc.matches) from exc
        except VersionConflict as exc:
            raise ApiError(409, str(exc), conflict={"base_version": exc.base_version, "current": exc.current.to_dict()}) from exc
        except EntryNotFound as exc:
            raise ApiError(404, str(exc)) from exc
        except (InvalidTransition, ImportConflict) as exc:
            raise ApiError(409, str(exc)) from exc
        except KBValidationError as exc:
            raise ApiError(422, str(exc), problems=exc.problems) from exc
        except NothingApproved as exc:
            raise ApiError(422, str(exc)) from exc
        except traffic.ReviewError as exc:
            raise ApiError(400, str(exc)) from exc

    @staticmethod
    async def _changed(scope: Scope, record: EntryRecord, status: int = 200) -> Response:
        await run_in_threadpool(scope.engine.catch_up)
        return JSONResponse({"entry": record.to_dict(), "live_entries": scope.engine.live_size}, status_code=status)

    # -- entries --------------------------------------------------------------------------------

    async def list_entries(self, request: Request) -> Response:
        params = request.query_params
        status = params.get("status") or None
        if status not in (None, "approved", "draft", "retired", "pending"):
            raise ApiError(400, "'status' must be approved, draft, retired or pending")
        page = page_of(request)
        scope = await self._scope(request)
        records = await self._call(
            scope.editor.list, intent=params.get("intent") or None, tag=params.get("tag") or None, status=status, search=params.get("q")
        )
        shown = records[page.offset:page.offset + page.limit]
        return JSONResponse({"entries": [r.to_dict() for r in shown], **page.of(records)})

    async def get_entry(self, request: Request) -> Response:
        """The entry with a page of its history: the newest, or with `?before=` (the last page's `history_page.next_before`)
        the versions older than that (`GET /api/kb/entries/{id}` and `.../history`)."""
        entry_id = request.path_params["entry_id"]
        limit, before = _history_params(request)
        scope = await self._scope(request)
        return JSONResponse(await self._call(_with_history, scope.editor, entry_id, limit, before))

    async def create_entry(self, request: Request) -> Response:
        data = await json_body(request)
        content = {**_content(data), "id": optional_str(data, "id")}
        scope = await self._scope(request, write=True)
        record = await self._call(scope.editor.create, content, _author(request), allow_similar=data.get("allow_similar") is True)
        return JSONResponse({"entry": record.to_dict()}, status_code=201)

    async def update_entry(self, request: Request) -> Response:
        data = await json_body(request)
        entry_id = request.path_params["entry_id"]
        scope = await self._scope(request, write=True)
        record = await self._call(scope.editor.edit, entry_id, _content(data), _version(data), _author(request))
        return JSONResponse({"entry": record.to_dict()})

    async def approve(self, request: Request) -> Response:
        data = await json_body(request)
        scope = await self._scope(request, write=True)
        record = await self._call(scope.editor.approve, request.path_params["entry_id"], _version(data), _author(request))
        return await self._changed(scope, record)

    async def retire(self, request: Request) -> Response:
        data = await json_body(request)
        scope = await self._scope(request, write=True)
        record = await self._call(scope.editor.retire, request.path_params["entry_id"], _version(data), _author(request))
        return await self._changed(scope, record)

    async def discard(self, request: Request) -> Response:
        data = await json_body(request)
        scope = await self._scope(request, write=True)
        record = await self._call(scope.editor.discard, request.path_params["entry_id"], _version(data), _author(request))
        return JSONResponse({"entry": record.to_dict()})

    async def revert(self, request: Request) -> Response:
        data = await json_body(request)
        to_version = _version(data, "to_version")
        scope = await self._scope(request, write=True)
        record = await self._call(scope.editor.revert, request.path_params["entry_id"], to_version, _version(data), _author(request))
        return JSONResponse({"entry": record.to_dict()})

    async def add_variants(self, request: Request) -> Response:
        data = await json_body(request)
        questions = optional_str_list(data, "questions")
        if not questions:
            raise ApiError(400, "'questions' must be a non-empty list of strings")
        approve = data.get("approve") is True
        scope = await self._scope(request, write=True)
        record = await self._call(
            scope.editor.add_variants, request.path_params["entry_id"], questions, _version(data), _author(request), approve=approve
        )
        return await self._changed(scope, record) if approve else JSONResponse({"entry": record.to_dict()})

    async def diff(self, request: Request) -> Response:
        entry_id = request.path_params["entry_id"]
        version, against = (request.query_params.get(name) or "" for name in ("version", "against"))
        if not _is_version(version) or not (against == "" or _is_version(against)):
            raise ApiError(400, "'version' (and 'against', if given) must be version numbers")
        scope = await self._scope(request)
        return JSONResponse(await self._call(scope.editor.diff, entry_id, int(version), int(against) if against else None))

    # -- checking -------------------------------------------------------------------------------

    async def review(self, request: Request) -> Response:
        data = await json_body(request)
        entry_id = optional_str(data, "entry_id")
        content = _content(data)
        scope = await self._scope(request)
        review = await self._call(scope.editor.review, content, entry_id)
        fresh = [q for q in content["questions"] if q.strip() not in review.taken]  # a refused question is known already
        similar = await self._call(scope.editor.similar, fresh, entry_id) if fresh else []
        return JSONResponse({**review.to_dict(), "near_duplicates": similar})

    async def similar(self, request: Request) -> Response:
        query = (request.query_params.get("q") or "").strip()
        if len(query) > 200:
            raise ApiError(422, "question is longer than 200 characters")
        scope = await self._scope(request)
        matches = await self._call(scope.editor.similar, [query], request.query_params.get("exclude")) if query else []
        return JSONResponse({"near_duplicates": matches})

    async def meta(self, request: Request) -> Response:
        """The intents, the shop's profile (what fills its answers), and the shops the caller may choose from."""
        scope = await self._scope(request)
        principal = principal_of(request)
        assert principal is not None

        def read() -> dict[str, Any]:
            everything = shop_names(scope.editor.store.db)
            choices = everything if principal.every_shop else [s for s in everything if principal.serves(s)] or [DEFAULT_SHOP]
            return {"intents": list(scope.editor.intents), "shop": scope.editor.store.shop(), "shop_name": scope.shop,
                    "shops": [*choices, COMMON], "may_edit_common": principal.may_edit_common}

        return JSONResponse(await run_in_threadpool(read))

    # -- files ----------------------------------------------------------------------------------

    async def export_csv(self, request: Request) -> Response:
        scope = await self._scope(request)

        def render() -> bytes:  # grows with the KB: off the event loop
            return dump_csv(scope.editor.store.load()).encode("utf-8-sig")

        return Response(
            await run_in_threadpool(render),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="kb-{scope.shop}.csv"'},
        )

    async def import_csv(self, request: Request) -> Response:
        body = await read_body(request, self.settings.limits.max_import_bytes)
        author = _author(request)
        scope = await self._scope(request, write=True)
        store = scope.editor.store

        def run() -> int:
            content = csv_for(store, body, self.intents)
            store.replace_all(content, author=author)
            return len(content.entries)

        count = await self._call(run)
        await run_in_threadpool(scope.engine.catch_up)
        return JSONResponse({"imported": count, "live_entries": scope.engine.live_size})

    async def write_nlu(self, request: Request) -> Response:
        settings = self.settings
        scope = await self._scope(request, write=True)
        if scope.shop != DEFAULT_SHOP:  # one Rasa model serves every shop: `bot train` writes the file from the default shop too
            raise ApiError(422, not_the_default_shop(scope.shop))

        def run() -> dict[str, Any]:
            path = write_kb_nlu(scope.editor.store.approved(), settings.project_dir / "data" / "nlu")
            examples = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("    - "))
            return {"path": str(path), "examples": examples}

        return JSONResponse(await self._call(run))

    # -- learning from traffic ------------------------------------------------------------------

    async def clusters(self, request: Request) -> Response:
        limit, snapshot, after = _traffic_params(request)
        scope = await self._scope(request, traffic=True)
        page = await run_in_threadpool(
            traffic.cluster_page, scope.editor.store.db, scope.engine.encoder, scope.engine.index, scope.editor, _traffic_of(scope),
            limit, snapshot, after,
        )
        return JSONResponse({
            "clusters": [c.to_dict() for c in page.clusters], "count": page.count, "limit": limit,
            "snapshot": str(page.snapshot), "next_after": page.next_after,
        })

    async def accept(self, request: Request) -> Response:
        data = await json_body(request)
        scope = await self._scope(request, write=True)
        record = await self._call(
            traffic.accept, scope.editor.store.db, scope.editor, message_ids(data, "message_ids", traffic.MAX_MESSAGES), optional_str(data, "action") or "",
            _author(request), entry_id=optional_str(data, "entry_id"), questions=optional_str_list(data, "questions") or [],
            intent=optional_str(data, "intent"), answer=optional_str(data, "answer"), shop=_traffic_of(scope),
        )
        return await self._changed(scope, record, status=201)

    async def dismiss(self, request: Request) -> Response:
        data = await json_body(request)
        ids = message_ids(data, "message_ids", traffic.MAX_MESSAGES)
        scope = await self._scope(request, write=True)
        await self._call(traffic.dismiss, scope.editor.store.db, ids, _author(request), _traffic_of(scope))
        return JSONResponse({"dismissed": len(ids)})
