"""Read labelled chat logs (JSONL, CSV, TSV or Rasa NLU YAML); bad lines are reported by number and skipped."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import BotError


@dataclass(frozen=True)
class LogItem:
    """One labelled customer message."""

    text: str
    intent: str
    reply_ids: tuple[str, ...] = ()
    conversation_id: str | None = None
    turn: int | None = None
    line: int = 0
    replied: bool = True  # False: the buyer wrote again before the agent answered (a burst, answered together)


@dataclass
class LogFile:
    items: list[LogItem] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


_BOOLEAN = {"": True, "none": True, "true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _replies(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(part.strip() for part in str(value).split("|") if part.strip())


def _item(record: Any, line: int, where: str, problems: list[str]) -> LogItem | None:
    if not isinstance(record, dict):
        problems.append(f"{where}:{line}: not an object with 'text' and 'intent'")
        return None
    text, intent = record.get("text"), record.get("intent")
    if not isinstance(text, str) or not text.strip():
        problems.append(f"{where}:{line}: 'text' is missing or empty")
        return None
    if not isinstance(intent, str) or not intent.strip():
        problems.append(f"{where}:{line}: 'intent' is missing or empty")
        return None
    turn = record.get("turn")
    if turn not in (None, ""):
        try:
            turn = int(turn)
        except (TypeError, ValueError):
            problems.append(f"{where}:{line}: 'turn' must be a whole number, not {turn!r}")
            return None
    else:
        turn = None
    conversation = record.get("conversation_id")
    conversation = str(conversation) if conversation not in (None, "") else None
    replied = _BOOLEAN.get(str(record.get("replied", "")).strip().lower()) if not isinstance(record.get("replied"), bool) else record["replied"]
    if replied is None:
        problems.append(f"{where}:{line}: 'replied' must be true or false, not {record.get('replied')!r}")
        return None
    reply = record.get("reply_id", record.get("reply_ids"))
    return LogItem(text.strip(), intent.strip(), _replies(reply), conversation, turn, line, replied)


def _jsonl(text: str, where: str, out: LogFile) -> None:
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            out.problems.append(f"{where}:{number}: not JSON ({exc.msg})")
            continue
        item = _item(record, number, where, out.problems)
        if item:
            out.items.append(item)


def _delimited(text: str, where: str, delimiter: str, out: LogFile) -> None:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    if not header or "text" not in header or "intent" not in header:
        raise BotError(f"{where}: the first line must be a header naming at least 'text' and 'intent'")
    for row in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            out.problems.append(f"{where}:{number}: {len(row)} fields, the header has {len(header)}")
            continue
        item = _item(dict(zip(header, row)), number, where, out.problems)
        if item:
            out.items.append(item)


def _rasa_yaml(text: str, where: str, out: LogFile) -> None:
    from ruamel.yaml import YAML, YAMLError

    try:
        data = YAML(typ="rt").load(text) or {}
    except YAMLError as exc:
        raise BotError(f"{where}: not valid YAML: {exc}") from exc
    for block in data.get("nlu") or ():
        intent = block.get("intent") if isinstance(block, dict) else None
        if not intent:
            continue
        first_line = block.lc.line + 1 if hasattr(block, "lc") else 0
        for offset, raw in enumerate(str(block.get("examples") or "").splitlines()):
            if raw.strip().startswith("- "):
                out.items.append(LogItem(raw.strip()[2:].strip(), str(intent), line=first_line + 2 + offset))


def read_log(path: Path | str) -> LogFile:
    """Items in input order and the problems found; the format follows the file's extension."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise BotError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise BotError(f"{path}: not UTF-8 text") from exc
    out = LogFile()
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        _jsonl(text, str(path), out)
    elif suffix == ".csv":
        _delimited(text, str(path), ",", out)
    elif suffix == ".tsv":
        _delimited(text, str(path), "\t", out)
    elif suffix in (".yml", ".yaml"):
        _rasa_yaml(text, str(path), out)
    else:
        raise BotError(f"{path}: unknown log format '{suffix}' (use .jsonl, .csv, .tsv or Rasa NLU .yml)")
    if not out.items:
        raise BotError(f"{path}: no usable messages" + (f" ({len(out.problems)} bad lines)" if out.problems else ""))
    return out


def read_intent_map(path: Path | str) -> dict[str, str]:
    """Our intent -> the log's label; a '*' key maps every other intent (e.g. '*': other)."""
    from ruamel.yaml import YAML, YAMLError

    path = Path(path)
    try:
        data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise BotError(f"{path}: cannot read the intent map: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise BotError(f"{path}: the intent map must be a mapping of intent: label")
    return dict(data)


def map_intent(intent: str, mapping: dict[str, str] | None) -> str:
    if not mapping:
        return intent
    return mapping.get(intent, mapping.get("*", intent))
