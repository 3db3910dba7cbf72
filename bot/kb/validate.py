"""Checks on one entry's fields, shared by the kb/ file reader, the CSV reader and the editor (field -> messages)."""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from bot.kb.template import stray_braces, variables
from bot.order import ORDER_PREFIX, ORDER_VARIABLES
from bot.textcheck import CONTROL, is_valid_unicode

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}\Z")  # \Z: "$" would let a trailing newline through
CONTENT_FIELDS = ("intent", "tags", "questions", "answer")
MAX_QUESTIONS = 50
MAX_QUESTION_CHARS = 200
MAX_ANSWER_CHARS = 2000
MAX_TAGS = 20
MAX_TAG_CHARS = 30
SHOP_FILE = "shop.yml"

FieldProblems = dict[str, list[str]]


def _check_strings(value: Any, name: str, limit: int, count: int) -> list[str]:
    if not isinstance(value, list) or not value:
        return [f"'{name}' must be a non-empty list"]
    if len(value) > count:
        return [f"'{name}' has {len(value)} items; the limit is {count}"]
    problems = []
    for i, item in enumerate(value, 1):
        if not isinstance(item, str) or not item.strip():
            problems.append(f"{name} #{i} must be non-empty text")
        elif len(item) > limit:
            problems.append(f"{name} #{i} is {len(item)} characters; the limit is {limit}")
        elif any(ord(c) < 32 and c not in "\t" for c in item) or CONTROL.search(item):
            problems.append(f"{name} #{i} contains a control character or line break")
        elif not is_valid_unicode(item):
            problems.append(f"{name} #{i} is not valid Unicode")
    if len({str(v).strip() for v in value}) != len(value):
        problems.append(f"'{name}' repeats an item")
    return problems


def check_id(entry_id: Any) -> list[str]:
    if not isinstance(entry_id, str) or not ID_PATTERN.match(entry_id):
        return [f"id {entry_id!r} must be lower-case letters, digits, '_', '.', '-' (max 100)"]
    return []


def check_content(data: Mapping[str, Any], intents: Iterable[str], shop: Mapping[str, str]) -> FieldProblems:
    """Problems with an entry's intent, tags, questions and answer, keyed by field (empty when all is well)."""
    intents = tuple(intents)
    problems: FieldProblems = {}

    def add(field: str, messages: list[str]) -> None:
        if messages:
            problems.setdefault(field, []).extend(messages)

    intent = data.get("intent")
    if intent not in intents:
        add("intent", [f"unknown intent {intent!r} (known: {', '.join(intents)})"])
    add("questions", _check_strings(data.get("questions"), "questions", MAX_QUESTION_CHARS, MAX_QUESTIONS))
    tags = data.get("tags") if data.get("tags") is not None else []
    if tags:
        add("tags", _check_strings(tags, "tags", MAX_TAG_CHARS, MAX_TAGS))
    elif not isinstance(tags, list):
        add("tags", ["'tags' must be a list"])
    answer = data.get("answer")
    if not isinstance(answer, str) or not answer.strip():
        add("answer", ["'answer' must be non-empty text"])
    elif len(answer) > MAX_ANSWER_CHARS:
        add("answer", [f"answer is {len(answer)} characters; the limit is {MAX_ANSWER_CHARS}"])
    elif CONTROL.search(answer) or not is_valid_unicode(answer):
        add("answer", ["answer contains a control character or invalid Unicode (line breaks are fine)"])
    else:
        used = variables(answer)
        unknown = [v for v in used if v not in shop and not v.startswith(ORDER_PREFIX)]
        if unknown:
            add("answer", [f"answer uses variable(s) not in {SHOP_FILE}: {', '.join(unknown)}"])
        unknown_order = [v for v in used if v.startswith(ORDER_PREFIX) and v not in ORDER_VARIABLES]
        if unknown_order:
            add("answer", [f"unknown order fact(s) {', '.join(unknown_order)} (known: {', '.join(ORDER_VARIABLES)})"])
        if stray_braces(answer):
            add("answer", ["answer has a stray '{' or '}' (variables look like {shop_name})"])
    return problems


def clean_content(data: Mapping[str, Any]) -> dict[str, Any]:
    """The content fields of checked data, stripped: intent, tags (tuple), questions (tuple), answer."""
    return {
        "intent": data["intent"],
        "tags": tuple(str(t).strip() for t in (data.get("tags") or ())),
        "questions": tuple(str(q).strip() for q in data["questions"]),
        "answer": str(data["answer"]).strip(),
    }
