"""What the index holds: one row per question and one per filled answer of each approved entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from bot.kb import Entry
from bot.kb.template import fill
from bot.normalize import normalize

QUESTION, ANSWER = "question", "answer"


@dataclass(frozen=True)
class Row:
    """One indexed text: the position of its entry in the index's entries, and whether it is a question or the answer."""

    entry_index: int  # (a Hit's `entry` is the Entry itself)
    kind: str
    text: str


def index_rows(entries: Sequence[Entry], shop: dict[str, str]) -> list[Row]:
    """One row per question and one for the filled answer of each entry, in entry order, normalised as queries are."""
    rows: list[Row] = []
    for i, entry in enumerate(entries):
        rows.extend(Row(i, QUESTION, normalize(q)) for q in entry.questions)
        rows.append(Row(i, ANSWER, normalize(fill(entry.answer, shop).text)))
    return rows
