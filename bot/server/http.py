"""HTTP helpers shared by the console and editor handlers: JSON bodies, typed fields, errors as {"error": ...}."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.textcheck import is_valid_unicode

MAX_BODY_BYTES = 64 * 1024


class ApiError(HTTPException):
    """A 4xx answer: `detail` is the message; `extra` goes into the JSON body beside it."""

    def __init__(self, status_code: int, detail: str, **extra: Any) -> None:
        super().__init__(status_code, detail)
        self.extra = extra


def body_limit(request: Request) -> int:
    """The app's JSON body limit (settings.limits.max_body_bytes)."""
    limits = getattr(request.app.state, "limits", None)
    return int(getattr(limits, "max_body_bytes", MAX_BODY_BYTES))


async def read_body(request: Request, limit: int | None = None) -> bytes:
    """The body, refused with 413 as soon as it is known to be too big (Content-Length, or while streaming)."""
    limit = body_limit(request) if limit is None else limit
    declared = request.headers.get("content-length")
    if declared is not None:
        if not is_number(declared):
            raise ApiError(400, "Content-Length is not a number")
        if int(declared) > limit:
            raise ApiError(413, f"request body is {declared} bytes; the limit is {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"request body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def json_body(request: Request) -> dict[str, Any]:
    body = await read_body(request)
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ApiError(400, f"request body is not UTF-8 (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"request body is not JSON: {exc.msg} at position {exc.pos}") from exc
    except RecursionError as exc:
        raise ApiError(400, "request body is nested too deeply") from exc
    except ValueError as exc:  # an integer of thousands of digits: Python's int-string limit
        raise ApiError(400, f"request body holds a number too long to read ({exc})") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "request body must be a JSON object")
    return data


def is_number(raw: str) -> bool:
    """Whether a text is a whole number in ASCII digits ("²" and "①" are digits to str.isdigit, not to int)."""
    return raw.isascii() and raw.isdigit()


def message_ids(data: dict[str, Any], key: str, most: int) -> tuple[int, ...]:
    """A list of at most `most` message ids in a request body (none: empty), each named once."""
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > most:
        raise ApiError(400, f"'{key}' must be a list of at most {most} message ids")
    return tuple(dict.fromkeys(optional_int({key: v}, key) for v in value))  # type: ignore[misc]


def optional_int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"'{key}' must be an integer")
    if not -(2**53) <= value <= 2**53:
        raise ApiError(400, f"'{key}' is out of range")
    return value


def optional_rank(data: dict[str, Any], key: str = "rank") -> int | None:
    """A suggestion's rank: 1 (the first shown) to 1000."""
    value = optional_int(data, key)
    if value is not None and not 1 <= value <= 1000:
        raise ApiError(400, f"'{key}' must be from 1 to 1000")
    return value


def optional_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"'{key}' must be a string")
    if not is_valid_unicode(value):
        raise ApiError(400, f"'{key}' is not valid Unicode (a lone surrogate)")
    return value


def optional_str_list(data: dict[str, Any], key: str) -> list[str] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError(400, f"'{key}' must be a list of strings")
    if not all(is_valid_unicode(v) for v in value):
        raise ApiError(400, f"'{key}' is not valid Unicode (a lone surrogate)")
    return value


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail, **getattr(exc, "extra", {})}, status_code=exc.status_code)


@dataclass(frozen=True)
class Page:
    """`?limit=N&offset=M` of a list endpoint: at most `limit` items from `offset` on."""

    limit: int
    offset: int

    def of(self, items: Sequence[Any], total: int | None = None) -> dict[str, Any]:
        """The paging fields of a response for these items (already this page's when `total` is given)."""
        total = len(items) if total is None else total
        end = self.offset + self.limit
        return {"count": total, "limit": self.limit, "offset": self.offset, "next_offset": end if end < total else None}


def page_of(request: Request, default: int = 100, most: int = 500) -> Page:
    """The page a list request asks for; a 400 naming the parameter if it is not a number in range."""
    values = {}
    for name, fallback, top in (("limit", default, most), ("offset", 0, 10**9)):
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            values[name] = fallback
            continue
        if not is_number(raw) or len(raw) > 10 or int(raw) > top or (name == "limit" and int(raw) == 0):
            raise ApiError(400, f"'{name}' must be a whole number {'from 1 to ' + str(top) if name == 'limit' else 'from 0'}")
        values[name] = int(raw)
    return Page(values["limit"], values["offset"])
