"""The KB's entries as one CSV file for spreadsheets: read it whole with line numbers, or write it canonically.

One row per entry: id, intent, status, tags, questions, answer. Tags and questions are one per line
inside their cell. An approved entry's pending edit is a second row with the same id and status
`draft`, right below it. The shop profile is not in the CSV; it stays in shop.yml / the database.
The file is written as UTF-8 with a byte-order mark (so spreadsheet programs read the Chinese right).
A cell that a spreadsheet would run as a formula (starting with = + - @, say a buyer's "=HYPERLINK(...)" taken
as a question variant) is written behind a ' and read back without it, so files stay lossless.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Iterable

from bot.errors import KBValidationError
from bot.kb import STATUSES, Entry, KBContent
from bot.kb.files import MAX_FILE_BYTES, claim_questions
from bot.kb.validate import check_content, check_id, clean_content

COLUMNS = ("id", "intent", "status", "tags", "questions", "answer")
FORMULA = re.compile(r"^'*[=+\-@\t\r]")  # a formula in Excel/WPS, or such a cell already behind quotes


def _guarded(cell: str) -> str:
    """The cell as a spreadsheet shows it as text: one more leading ' where it would start a formula."""
    return "'" + cell if FORMULA.match(cell) else cell


def _unguarded(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and FORMULA.match(cell) else cell


def _lines(cell: str) -> list[str]:
    return [line.strip() for line in cell.replace("\r\n", "\n").split("\n") if line.strip()]


def dump_csv(content: KBContent) -> str:
    """The canonical CSV text of a KB's entries (sorted by id, pending edits below their entry)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    drafts = {d.id: d for d in content.pending}
    for entry in sorted(content.entries, key=lambda e: e.id):
        for row in (entry, drafts.get(entry.id)):
            if row is not None:
                cells = [row.id, row.intent, row.status, "\n".join(row.tags), "\n".join(row.questions), row.answer]
                writer.writerow([_guarded(cell) for cell in cells])
    return buffer.getvalue()


def write_csv(content: KBContent, path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(dump_csv(content).encode("utf-8-sig"))
    tmp.replace(path)
    return path


def parse_csv(data: bytes, intents: Iterable[str], shop: dict[str, str], name: str = "<csv>") -> KBContent:
    """Validate a whole CSV file; raise KBValidationError naming every problem with its line."""
    intents = tuple(intents)
    if len(data) > MAX_FILE_BYTES:
        raise KBValidationError([f"{name}: file is {len(data)} bytes; the limit is {MAX_FILE_BYTES}"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KBValidationError([f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from exc
    if "\x00" in text:
        raise KBValidationError([f"{name}: contains NUL bytes (not a CSV text file)"])
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[str] = []
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise KBValidationError([f"{name}:1: not valid CSV: {exc}"]) from exc
    if header is None or tuple(h.strip() for h in header) != COLUMNS:
        raise KBValidationError([f"{name}:1: the header must be {','.join(COLUMNS)} (found {','.join(header or [])!r})"])
    entries: dict[str, Entry] = {}
    pending: dict[str, Entry] = {}
    owners: dict[str, str] = {}
    last_id: str | None = None
    line = reader.line_num + 1
    row_number = 1  # as a spreadsheet numbers rows (the header is row 1); `line` counts lines of text
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(f"{name}:{line}: not valid CSV: {exc}")
            break
        row_number += 1
        where = f"{name}:{line}: row {row_number}: entry {row[0] if row else '?'}"
        line = reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(COLUMNS):
            problems.append(f"{where}: has {len(row)} cells; expected {len(COLUMNS)} ({','.join(COLUMNS)})")
            continue
        entry_id, intent, status, tags, questions, answer = (_unguarded(cell.strip()) for cell in row)
        data = {"intent": intent, "tags": _lines(tags), "questions": _lines(questions), "answer": answer}
        row_problems = check_id(entry_id) + [m for messages in check_content(data, intents, shop).values() for m in messages]
        if status not in STATUSES:
            row_problems.append(f"status {status!r} must be one of {', '.join(STATUSES)}")
        is_pending = entry_id == last_id and entry_id in entries and status == "draft"
        if is_pending and entries[entry_id].status != "approved":
            row_problems.append("a second row for an entry is its pending edit; only an approved entry can have one")
        elif entry_id in entries and not is_pending:
            row_problems.append(f"duplicate id '{entry_id}' (a repeated id must be the draft row right below its approved row)")
        elif entry_id in pending:
            row_problems.append(f"entry '{entry_id}' already has a pending edit")
        problems += [f"{where}: {m}" for m in row_problems]
        last_id = entry_id
        if row_problems:
            continue
        entry = Entry(id=entry_id, status=status, **clean_content(data))
        if is_pending:
            pending[entry_id] = entry
            problems += [f"{where}: {m}" for m in claim_questions(entries[entry_id], entry, owners)]
        else:
            entries[entry_id] = entry
            problems += [f"{where}: {m}" for m in claim_questions(entry, None, owners)]
    if not entries and not problems:
        problems.append(f"{name}: no entries")
    if problems:
        raise KBValidationError(problems)
    return KBContent(
        shop=dict(shop),
        entries=tuple(sorted(entries.values(), key=lambda e: e.id)),
        pending=tuple(sorted(pending.values(), key=lambda e: e.id)),
    )


def read_csv(path: Path | str, intents: Iterable[str], shop: dict[str, str]) -> KBContent:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KBValidationError([f"{path}: cannot read: {exc.strerror}"]) from exc
    return parse_csv(data, intents, shop, str(path))
