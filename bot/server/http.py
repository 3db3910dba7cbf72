"""HTTP helpers shared by the console and editor handlers: JSON bodies, typed fields, errors as {"error": ...}."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

MAX_BODY_BYTES = 64 * 1024


class ApiError(HTTPException):
    """A 4xx answer: `detail` is the message; `extra` goes into the JSON body beside it."""

    def __init__(self, status_code: int, detail: str, **extra: Any) -> None:
        super().__init__(status_code, detail)
        self.extra = extra


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    body = await request.body()
    if len(body) > limit:
        raise ApiError(413, f"request body is {len(body)} bytes; the limit is {limit}")
    return body


async def json_body(request: Request) -> dict[str, Any]:
    body = await read_body(request)
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ApiError(400, "request body is not UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"request body is not JSON: {exc.msg} at position {exc.pos}") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "request body must be a JSON object")
    return data


def optional_int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"'{key}' must be an integer")
    return value


def optional_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"'{key}' must be a string")
    return value


def optional_str_list(data: dict[str, Any], key: str) -> list[str] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError(400, f"'{key}' must be a list of strings")
    return value


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail, **getattr(exc, "extra", {})}, status_code=exc.status_code)
