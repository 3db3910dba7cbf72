"""The kb/ directory as YAML: read and validate it whole, or write it in its canonical form."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any, Iterable

from bot.errors import KBValidationError
from bot.kb import STATUSES, Entry, KBContent
from bot.kb.template import stray_braces, variables

SHOP_FILE = "shop.yml"
ENTRIES_DIR = "entries"
ENTRY_FIELDS = ("id", "intent", "status", "tags", "questions", "answer")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
MAX_FILE_BYTES = 5_000_000
MAX_QUESTIONS = 50
MAX_QUESTION_CHARS = 200
MAX_ANSWER_CHARS = 2000
MAX_TAGS = 20
MAX_TAG_CHARS = 30
SHOP_HEADER = (
    "# The shop profile: the facts that fill {variables} in the canned replies.\n"
    "# Every variable an answer uses must be defined here; `bot kb import` refuses the KB otherwise.\n"
)


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml: Any = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=2, offset=0)
    return yaml


def _load_yaml(path: Path, problems: list[str]) -> Any:
    from ruamel.yaml import YAMLError

    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            problems.append(f"{path}: file is {size} bytes; the limit is {MAX_FILE_BYTES}")
            return None
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})")
        return None
    except OSError as exc:
        problems.append(f"{path}: cannot read: {exc.strerror}")
        return None
    try:
        yaml = _yaml()
        if _has_alias(yaml.compose(text)):
            problems.append(f"{path}: YAML anchors/aliases are not allowed in the knowledge base")
            return None
        return yaml.load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problems.append(f"{path}{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}")
        return None
    except Exception as exc:  # ruamel raises its own duplicate-key and constructor errors
        problems.append(f"{path}: not valid YAML: {exc}")
        return None


def _has_alias(root: Any) -> bool:
    """True when a composed YAML graph reuses a node (an alias), which the KB never needs."""
    seen: set[int] = set()
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        value = getattr(node, "value", None)
        if isinstance(value, list):
            for item in value:
                stack.extend(item if isinstance(item, tuple) else (item,))
    return False


def _line(node: Any, key: Any = None) -> int | None:
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        return (lc.key(key)[0] if key is not None else lc.line) + 1
    except (KeyError, TypeError, AttributeError):
        return lc.line + 1


def _read_shop(path: Path, problems: list[str]) -> dict[str, str]:
    if not path.exists():
        problems.append(f"{path}: missing (the shop profile that fills the answers' variables)")
        return {}
    data = _load_yaml(path, problems)
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.append(f"{path}: must be a mapping of variable: value")
        return {}
    shop: dict[str, str] = {}
    for key, value in data.items():
        where = f"{path}:{_line(data, key)}"
        if not isinstance(key, str) or not re.fullmatch(r"[a-z_][a-z0-9_]*", key):
            problems.append(f"{where}: variable name {key!r} must be lower_snake_case")
        elif value is None or isinstance(value, (dict, list)) or str(value).strip() == "":
            problems.append(f"{where}: variable '{key}' needs a plain, non-empty value")
        else:
            shop[key] = str(value)
    return shop


def _check_strings(value: Any, name: str, limit: int, count: int, where: str) -> list[str]:
    if not isinstance(value, list) or not value:
        return [f"{where}: '{name}' must be a non-empty list"]
    if len(value) > count:
        return [f"{where}: '{name}' has {len(value)} items; the limit is {count}"]
    problems = []
    for i, item in enumerate(value, 1):
        if not isinstance(item, str) or not item.strip():
            problems.append(f"{where}: {name} #{i} must be non-empty text")
        elif len(item) > limit:
            problems.append(f"{where}: {name} #{i} is {len(item)} characters; the limit is {limit}")
    if len({str(v).strip() for v in value}) != len(value):
        problems.append(f"{where}: '{name}' repeats an item")
    return problems


def _read_entry(node: Any, where: str, intents: Iterable[str], shop: dict[str, str]) -> tuple[Entry | None, list[str]]:
    if not isinstance(node, dict):
        return None, [f"{where}: each entry must be a mapping with fields {', '.join(ENTRY_FIELDS)}"]
    problems = [f"{where}: missing field '{f}'" for f in ENTRY_FIELDS if f not in node]
    problems += [f"{where}: unknown field '{f}'" for f in node if f not in ENTRY_FIELDS]
    if problems:
        return None, problems
    entry_id, intent, status, answer = node["id"], node["intent"], node["status"], node["answer"]
    if not isinstance(entry_id, str) or not ID_PATTERN.match(entry_id):
        problems.append(f"{where}: id {entry_id!r} must be lower-case letters, digits, '_', '.', '-' (max 100)")
    if intent not in intents:
        problems.append(f"{where}: unknown intent {intent!r} (known: {', '.join(intents)})")
    if status not in STATUSES:
        problems.append(f"{where}: status {status!r} must be one of {', '.join(STATUSES)}")
    problems += _check_strings(node["questions"], "questions", MAX_QUESTION_CHARS, MAX_QUESTIONS, where)
    tags = node["tags"] if node["tags"] is not None else []
    if tags:
        problems += _check_strings(tags, "tags", MAX_TAG_CHARS, MAX_TAGS, where)
    elif not isinstance(tags, list):
        problems.append(f"{where}: 'tags' must be a list")
    if not isinstance(answer, str) or not answer.strip():
        problems.append(f"{where}: 'answer' must be non-empty text")
    elif len(answer) > MAX_ANSWER_CHARS:
        problems.append(f"{where}: answer is {len(answer)} characters; the limit is {MAX_ANSWER_CHARS}")
    else:
        unknown = [v for v in variables(answer) if v not in shop]
        if unknown:
            problems.append(f"{where}: answer uses variable(s) not in {SHOP_FILE}: {', '.join(unknown)}")
        if stray_braces(answer):
            problems.append(f"{where}: answer has a stray '{{' or '}}' (variables look like {{shop_name}})")
    if problems:
        return None, problems
    entry = Entry(
        id=entry_id,
        intent=intent,
        status=status,
        tags=tuple(str(t).strip() for t in tags),
        questions=tuple(str(q).strip() for q in node["questions"]),
        answer=str(answer).strip(),
    )
    return entry, []


def read_kb(kb_dir: Path | str, intents: Iterable[str]) -> KBContent:
    """Read and validate a kb/ directory; raise KBValidationError naming every problem."""
    kb_dir = Path(kb_dir)
    intents = tuple(intents)
    if not kb_dir.is_dir():
        raise KBValidationError([f"{kb_dir}: not a directory (expected {SHOP_FILE} and {ENTRIES_DIR}/)"])
    problems: list[str] = []
    shop = _read_shop(kb_dir / SHOP_FILE, problems)
    files = sorted((kb_dir / ENTRIES_DIR).glob("*.yml")) if (kb_dir / ENTRIES_DIR).is_dir() else []
    if not files:
        problems.append(f"{kb_dir / ENTRIES_DIR}: no *.yml entry files")
    entries: dict[str, Entry] = {}
    first_seen: dict[str, str] = {}
    question_owner: dict[str, str] = {}
    for path in files:
        data = _load_yaml(path, problems)
        if data is None:
            continue
        if not isinstance(data, list):
            problems.append(f"{path}: must be a YAML list of entries")
            continue
        for number, node in enumerate(data, 1):
            entry_id = node.get("id") if isinstance(node, dict) else None
            label = f"entry {number}" + (f" (id {entry_id})" if entry_id else "")
            where = f"{path}:{_line(node) or '?'}: {label}"
            entry, entry_problems = _read_entry(node, where, intents, shop)
            problems += entry_problems
            if entry is None:
                continue
            if entry.id in entries:
                problems.append(f"{where}: duplicate id '{entry.id}' (first in {first_seen[entry.id]})")
                continue
            for question in entry.questions:
                owner = question_owner.get(question)
                if owner is not None:
                    problems.append(f"{where}: question '{question}' is already a question of '{owner}'")
                question_owner.setdefault(question, entry.id)
            entries[entry.id] = entry
            first_seen[entry.id] = f"{path}:{_line(node) or '?'}"
    if problems:
        raise KBValidationError(problems)
    return KBContent(shop=shop, entries=tuple(sorted(entries.values(), key=lambda e: e.id)))


def _entry_node(entry: Entry) -> dict[str, Any]:
    from ruamel.yaml.scalarstring import LiteralScalarString

    answer: Any = LiteralScalarString(entry.answer) if "\n" in entry.answer else entry.answer
    return {
        "id": entry.id,
        "intent": entry.intent,
        "status": entry.status,
        "tags": list(entry.tags),
        "questions": list(entry.questions),
        "answer": answer,
    }


def dump_entries(entries: Iterable[Entry]) -> str:
    """The canonical YAML text of a list of entries (sorted by id)."""
    buffer = io.StringIO()
    _yaml().dump([_entry_node(e) for e in sorted(entries, key=lambda e: e.id)], buffer)
    return buffer.getvalue()


def dump_shop(shop: dict[str, str]) -> str:
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    buffer = io.StringIO()
    # quoted, so no YAML reader takes "16:30" or "99" for a number
    _yaml().dump({k: DoubleQuotedScalarString(v) for k, v in shop.items()}, buffer)
    return SHOP_HEADER + buffer.getvalue()


def write_kb(content: KBContent, kb_dir: Path | str) -> list[Path]:
    """Write a KB as kb_dir/shop.yml and kb_dir/entries/<intent>.yml; remove stale entry files."""
    kb_dir = Path(kb_dir)
    entries_dir = kb_dir / ENTRIES_DIR
    entries_dir.mkdir(parents=True, exist_ok=True)
    written = [kb_dir / SHOP_FILE]
    _write_atomic(written[0], dump_shop(content.shop))
    by_intent: dict[str, list[Entry]] = {}
    for entry in content.entries:
        by_intent.setdefault(entry.intent, []).append(entry)
    for intent, entries in sorted(by_intent.items()):
        path = entries_dir / f"{intent}.yml"
        _write_atomic(path, dump_entries(entries))
        written.append(path)
    for stale in set(entries_dir.glob("*.yml")) - set(written):
        stale.unlink()
    return written


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
