"""The kb/ directory as YAML: read and validate it whole, or write it in its canonical form."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any, Iterable

from bot.errors import KBValidationError
from bot.kb import STATUSES, Entry, KBContent
from bot.kb.validate import CONTENT_FIELDS, SHOP_FILE, check_content, check_id, clean_content

ENTRIES_DIR = "entries"
ENTRY_FIELDS = ("id", "intent", "status", "tags", "questions", "answer")
DRAFT_FIELD = "draft"  # optional: a pending edit of an approved entry (intent, tags, questions, answer)
MAX_FILE_BYTES = 5_000_000
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


def read_profile(path: Path | str) -> dict[str, str]:
    """A shop profile file (shop.yml's form: variable: value), or KBValidationError naming every problem."""
    problems: list[str] = []
    profile = _read_shop(Path(path), problems)
    if problems:
        raise KBValidationError(problems)
    return profile


def _read_entry(node: Any, where: str, intents: Iterable[str], shop: dict[str, str]) -> tuple[Entry | None, Entry | None, list[str]]:
    """One entry (and its pending edit, if it has a `draft:`) or the problems, each prefixed with where."""
    if not isinstance(node, dict):
        return None, None, [f"{where}: each entry must be a mapping with fields {', '.join(ENTRY_FIELDS)}"]
    problems = [f"{where}: missing field '{f}'" for f in ENTRY_FIELDS if f not in node]
    problems += [f"{where}: unknown field '{f}'" for f in node if f not in ENTRY_FIELDS + (DRAFT_FIELD,)]
    if problems:
        return None, None, problems
    problems += [f"{where}: {m}" for m in check_id(node["id"])]
    if node["status"] not in STATUSES:
        problems.append(f"{where}: status {node['status']!r} must be one of {', '.join(STATUSES)}")
    problems += [f"{where}: {m}" for messages in check_content(node, intents, shop).values() for m in messages]
    draft_node = node.get(DRAFT_FIELD)
    if draft_node is not None:
        draft_where = f"{where}: {DRAFT_FIELD}"
        if node["status"] != "approved":
            problems.append(f"{draft_where}: only an approved entry can have a pending draft (this one is {node['status']})")
        elif not isinstance(draft_node, dict) or set(draft_node) != set(CONTENT_FIELDS):
            problems.append(f"{draft_where}: must be a mapping with exactly the fields {', '.join(CONTENT_FIELDS)}")
        else:
            problems += [f"{draft_where}: {m}" for messages in check_content(draft_node, intents, shop).values() for m in messages]
    if problems:
        return None, None, problems
    entry = Entry(id=node["id"], status=node["status"], **clean_content(node))
    draft = Entry(id=node["id"], status="draft", **clean_content(draft_node)) if draft_node is not None else None
    return entry, draft, []


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
    pending: list[Entry] = []
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
            entry, draft, entry_problems = _read_entry(node, where, intents, shop)
            problems += entry_problems
            if entry is None:
                continue
            if entry.id in entries:
                problems.append(f"{where}: duplicate id '{entry.id}' (first in {first_seen[entry.id]})")
                continue
            problems += [f"{where}: {m}" for m in claim_questions(entry, draft, question_owner)]
            entries[entry.id] = entry
            if draft is not None:
                pending.append(draft)
            first_seen[entry.id] = f"{path}:{_line(node) or '?'}"
    if problems:
        raise KBValidationError(problems)
    return KBContent(
        shop=shop,
        entries=tuple(sorted(entries.values(), key=lambda e: e.id)),
        pending=tuple(sorted(pending, key=lambda e: e.id)),
    )


def claim_questions(entry: Entry, draft: Entry | None, owners: dict[str, str]) -> list[str]:
    """Record which entry owns each question; a question may belong to one live or draft entry only."""
    if entry.status == "retired":
        return []
    problems = []
    for question in dict.fromkeys(entry.questions + (draft.questions if draft else ())):
        owner = owners.get(question)
        if owner is not None and owner != entry.id:
            problems.append(f"question '{question}' is already a question of '{owner}'")
        owners.setdefault(question, entry.id)
    return problems


def _answer_node(answer: str) -> Any:
    from ruamel.yaml.scalarstring import LiteralScalarString

    return LiteralScalarString(answer) if "\n" in answer else answer


def _entry_node(entry: Entry, draft: Entry | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": entry.id,
        "intent": entry.intent,
        "status": entry.status,
        "tags": list(entry.tags),
        "questions": list(entry.questions),
        "answer": _answer_node(entry.answer),
    }
    if draft is not None:
        node[DRAFT_FIELD] = {
            "intent": draft.intent,
            "tags": list(draft.tags),
            "questions": list(draft.questions),
            "answer": _answer_node(draft.answer),
        }
    return node


def dump_entries(entries: Iterable[Entry], pending: Iterable[Entry] = ()) -> str:
    """The canonical YAML text of a list of entries (sorted by id), each with its pending draft if any."""
    drafts = {d.id: d for d in pending}
    buffer = io.StringIO()
    _yaml().dump([_entry_node(e, drafts.get(e.id)) for e in sorted(entries, key=lambda e: e.id)], buffer)
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
        _write_atomic(path, dump_entries(entries, content.pending))
        written.append(path)
    for stale in set(entries_dir.glob("*.yml")) - set(written):
        stale.unlink()
    return written


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
