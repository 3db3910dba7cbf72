"""The knowledge editors' JSON API: entries, review, near-duplicates, history, import/export, traffic clusters.

Handlers only parse requests and call the editor workflow (bot.kb.editor); after any change to what
agents are suggested they call `engine.sync()`, so the change is live before the response returns.
"""

from __future__ import annotations

from typing import Any, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot import traffic
from bot.errors import KBValidationError
from bot.kb.csv_io import dump_csv, parse_csv
from bot.kb.editor import FieldErrors, KBEditor, NearDuplicates
from bot.kb.nlu_export import write_kb_nlu
from bot.kb.store import EntryNotFound, EntryRecord, InvalidTransition, VersionConflict
from bot.server.access import principal_of
from bot.server.http import ApiError, json_body, optional_int, optional_str, optional_str_list, page_of, read_body
from bot.suggest import Engine



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


class EditorApi:
    """Editor handlers over one engine (for live updates and near-duplicate search) and one editor."""

    def __init__(self, engine: Engine, editor: KBEditor) -> None:
        self.engine = engine
        self.editor = editor

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
        except InvalidTransition as exc:
            raise ApiError(409, str(exc)) from exc
        except KBValidationError as exc:
            raise ApiError(422, str(exc), problems=exc.problems) from exc
        except traffic.ReviewError as exc:
            raise ApiError(400, str(exc)) from exc

    async def _changed(self, record: EntryRecord, status: int = 200) -> Response:
        await run_in_threadpool(self.engine.sync)
        return JSONResponse({"entry": record.to_dict(), "live_entries": len(self.engine.index or ())}, status_code=status)

    # -- entries --------------------------------------------------------------------------------

    async def list_entries(self, request: Request) -> Response:
        params = request.query_params
        status = params.get("status") or None
        if status not in (None, "approved", "draft", "retired", "pending"):
            raise ApiError(400, "'status' must be approved, draft, retired or pending")
        page = page_of(request)
        records = await self._call(
            self.editor.list, intent=params.get("intent") or None, tag=params.get("tag") or None, status=status, search=params.get("q")
        )
        shown = records[page.offset:page.offset + page.limit]
        return JSONResponse({"entries": [r.to_dict() for r in shown], **page.of(records)})

    async def get_entry(self, request: Request) -> Response:
        entry_id = request.path_params["entry_id"]
        record = await self._call(self.editor.get, entry_id)
        history = await self._call(self.editor.store.history, entry_id)
        return JSONResponse({"entry": record.to_dict(), "history": [r.to_dict() for r in reversed(history)]})

    async def create_entry(self, request: Request) -> Response:
        data = await json_body(request)
        content = {**_content(data), "id": optional_str(data, "id")}
        record = await self._call(self.editor.create, content, _author(request), allow_similar=data.get("allow_similar") is True)
        return JSONResponse({"entry": record.to_dict()}, status_code=201)

    async def update_entry(self, request: Request) -> Response:
        data = await json_body(request)
        entry_id = request.path_params["entry_id"]
        record = await self._call(self.editor.edit, entry_id, _content(data), _version(data), _author(request))
        return JSONResponse({"entry": record.to_dict()})

    async def approve(self, request: Request) -> Response:
        data = await json_body(request)
        record = await self._call(self.editor.approve, request.path_params["entry_id"], _version(data), _author(request))
        return await self._changed(record)

    async def retire(self, request: Request) -> Response:
        data = await json_body(request)
        record = await self._call(self.editor.retire, request.path_params["entry_id"], _version(data), _author(request))
        return await self._changed(record)

    async def discard(self, request: Request) -> Response:
        data = await json_body(request)
        record = await self._call(self.editor.discard, request.path_params["entry_id"], _version(data), _author(request))
        return JSONResponse({"entry": record.to_dict()})

    async def revert(self, request: Request) -> Response:
        data = await json_body(request)
        to_version = _version(data, "to_version")
        record = await self._call(self.editor.revert, request.path_params["entry_id"], to_version, _version(data), _author(request))
        return JSONResponse({"entry": record.to_dict()})

    async def add_variants(self, request: Request) -> Response:
        data = await json_body(request)
        questions = optional_str_list(data, "questions")
        if not questions:
            raise ApiError(400, "'questions' must be a non-empty list of strings")
        approve = data.get("approve") is True
        record = await self._call(
            self.editor.add_variants, request.path_params["entry_id"], questions, _version(data), _author(request), approve=approve
        )
        return await self._changed(record) if approve else JSONResponse({"entry": record.to_dict()})

    async def diff(self, request: Request) -> Response:
        entry_id = request.path_params["entry_id"]
        try:
            version = int(request.query_params.get("version", ""))
            against = int(request.query_params["against"]) if request.query_params.get("against") else None
        except ValueError as exc:
            raise ApiError(400, "'version' (and 'against', if given) must be version numbers") from exc
        return JSONResponse(await self._call(self.editor.diff, entry_id, version, against))

    # -- checking -------------------------------------------------------------------------------

    async def review(self, request: Request) -> Response:
        data = await json_body(request)
        entry_id = optional_str(data, "entry_id")
        content = _content(data)
        review = await self._call(self.editor.review, content, entry_id)
        fresh = [q for q in content["questions"] if q.strip() not in review.taken]  # a refused question is known already
        similar = await self._call(self.editor.similar, fresh, entry_id) if fresh else []
        return JSONResponse({**review.to_dict(), "near_duplicates": similar})

    async def similar(self, request: Request) -> Response:
        query = (request.query_params.get("q") or "").strip()
        if len(query) > 200:
            raise ApiError(422, "question is longer than 200 characters")
        matches = await self._call(self.editor.similar, [query], request.query_params.get("exclude")) if query else []
        return JSONResponse({"near_duplicates": matches})

    async def meta(self, request: Request) -> Response:
        return JSONResponse({"intents": list(self.editor.intents), "shop": await run_in_threadpool(self.editor.store.shop)})

    # -- files ----------------------------------------------------------------------------------

    async def export_csv(self, request: Request) -> Response:
        def render() -> bytes:  # grows with the KB: off the event loop
            return dump_csv(self.editor.store.load()).encode("utf-8-sig")

        return Response(
            await run_in_threadpool(render),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="kb.csv"'},
        )

    async def import_csv(self, request: Request) -> Response:
        body = await read_body(request, self.engine.settings.limits.max_import_bytes)
        author = _author(request)
        store = self.editor.store

        def run() -> int:
            content = parse_csv(body, self.editor.intents, store.shop(), "upload.csv")
            store.replace_all(content, author=author)
            return len(content.entries)

        count = await self._call(run)
        await run_in_threadpool(self.engine.sync)
        return JSONResponse({"imported": count, "live_entries": len(self.engine.index or ())})

    async def write_nlu(self, request: Request) -> Response:
        settings = self.engine.settings

        def run() -> dict[str, Any]:
            path = write_kb_nlu(self.editor.store.approved(), settings.project_dir / "data" / "nlu")
            examples = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("    - "))
            return {"path": str(path), "examples": examples}

        return JSONResponse(await run_in_threadpool(run))

    # -- learning from traffic ------------------------------------------------------------------

    async def clusters(self, request: Request) -> Response:
        page = page_of(request, default=50, most=200)
        found = await run_in_threadpool(traffic.clusters, self.editor.store.engine, self.engine.encoder, self.engine.index, self.editor)
        shown = found[page.offset:page.offset + page.limit]
        return JSONResponse({"clusters": [c.to_dict() for c in shown], **page.of(found)})

    async def accept(self, request: Request) -> Response:
        data = await json_body(request)
        record = await self._call(
            traffic.accept, self.editor.store.engine, self.editor, data.get("message_ids") or [], optional_str(data, "action") or "",
            _author(request), entry_id=optional_str(data, "entry_id"), questions=optional_str_list(data, "questions") or [],
            intent=optional_str(data, "intent"), answer=optional_str(data, "answer"),
        )
        return await self._changed(record, status=201)

    async def dismiss(self, request: Request) -> Response:
        data = await json_body(request)
        ids = data.get("message_ids") or []
        await self._call(traffic.dismiss, self.editor.store.engine, ids, _author(request))
        return JSONResponse({"dismissed": len(ids)})
