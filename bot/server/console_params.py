"""What the console's requests name, checked: a conversation id, message ids, a combined reply's parts, a feedback row, a shop."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from bot.conversations import CONVERSATION_ID, FEEDBACK_EVENTS
from bot.errors import MessageError
from bot.kb.validate import ID_PATTERN
from bot.server.http import ApiError, is_number, optional_int, optional_rank, optional_str
from bot.shops import ShopError, check_name
from bot.textcheck import check_text

MAX_ANSWERED = 50  # message ids one agent reply may answer


def is_conversation_id(value: object) -> bool:
    return isinstance(value, str) and CONVERSATION_ID.match(value) is not None


def conversation_id_of(request: Request) -> str:
    """The conversation id in a route's path, or a 400 saying what one may hold."""
    conversation_id = request.path_params["conversation_id"]
    if not is_conversation_id(conversation_id):
        raise ApiError(400, "conversation id must be 1-64 letters (any script), digits, '_', '.', ':' or '-'")
    return conversation_id


def optional_conversation_id(value: object) -> str | None:
    """A conversation id a query or body may name (None: not named), or a 400."""
    if value is not None and not is_conversation_id(value):
        raise ApiError(400, "'conversation_id' is not a conversation id")
    return value  # type: ignore[return-value]


def required_conversation_id(data: dict[str, Any]) -> str:
    """The conversation id a request body must name, or a 400."""
    conversation_id = optional_str(data, "conversation_id")
    if not conversation_id or not is_conversation_id(conversation_id):
        raise ApiError(400, "'conversation_id' is required")
    return conversation_id


def message_id_of(raw: str, error: str) -> int:
    """A message id given as text (a path or query parameter), or a 400 with `error`."""
    if not is_number(raw) or len(raw) > 15:
        raise ApiError(400, error)
    return int(raw)


def feedback_row(data: dict[str, Any], max_chars: int) -> dict[str, Any]:
    """The feedback row a request body describes (`POST /api/feedback`), or a 400/422 saying what is wrong with it."""
    conversation_id = required_conversation_id(data)
    event = data.get("event")
    if event not in FEEDBACK_EVENTS:
        raise ApiError(400, f"'event' must be one of {', '.join(FEEDBACK_EVENTS)}")
    final_text = optional_str(data, "final_text")
    if final_text is not None:
        try:
            final_text = check_text(final_text, "final_text", max_chars)
        except MessageError as exc:
            raise ApiError(422, str(exc)) from exc
    return {
        "conversation_id": conversation_id,
        "message_id": optional_int(data, "message_id"),
        "event": event,
        "entry_id": entry_id_of(data),
        "rank": optional_rank(data),
        "final_text": final_text,
    }


def entry_id_of(data: dict[str, Any], key: str = "entry_id") -> str | None:
    """The KB entry a body names (None: not named), or a 400: a feedback row keeps it, at most 100 characters."""
    entry_id = optional_str(data, key)
    if entry_id is not None and not ID_PATTERN.match(entry_id):
        raise ApiError(400, f"'{key}' is not a knowledge-base entry id (lower-case letters, digits, '_', '.', '-'; at most 100)")
    return entry_id


def reply_parts(data: dict[str, Any]) -> dict[int, str]:
    """The parts of a combined reply: [{"message_id", "entry_id"}] -> message id -> entry id."""
    value = data.get("parts")
    if value is None:
        return {}
    if not isinstance(value, list) or len(value) > MAX_ANSWERED or not all(isinstance(p, dict) for p in value):
        raise ApiError(400, f"'parts' must be a list of at most {MAX_ANSWERED} objects {{message_id, entry_id}}")
    parts: dict[int, str] = {}
    for part in value:
        message_id, entry_id = optional_int(part, "message_id"), entry_id_of(part)
        if message_id is None or not entry_id:
            raise ApiError(400, "each of 'parts' needs a 'message_id' and an 'entry_id'")
        parts[message_id] = entry_id
    return parts


def shop_param(value: object) -> str | None:
    """A shop named in a request (None: not named), or a 422 saying what a name may hold."""
    if value is None:
        return None
    try:
        return check_name(value)
    except ShopError as exc:
        raise ApiError(422, str(exc)) from exc
