"""Readable text for suggestions and KB entries, as the CLI and the shell print them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from bot.kb.records import EntryRecord, Revision
    from bot.suggestion import Suggestion


def format_suggestion(result: "Suggestion", ranking: int = 3) -> str:
    top = ", ".join(f"{s.name} {s.confidence:.2f}" for s in result.intent_ranking[:ranking])
    lines = [f"intent: {result.intent.name} ({result.intent.confidence:.2f})   [{top}]"]
    if result.context is not None:
        reading = f"context: this message alone is {result.context.message_intent}"
        if result.context.topic:
            reading += f", a follow-up of «{result.context.topic}»"
        if result.context.next_reply:
            reading += f"; next reply by the dialogue model: {result.context.next_reply.name} ({result.context.policy})"
        lines.append(reading)
    if result.abstained:
        lines.append(f"abstained: {result.reason}")
    for number, reply in enumerate(result.suggestions, 1):
        marker = "?" if result.abstained else str(number)
        lines.append(f" {marker}. {reply.text}")
        detail = f"{reply.id}  score {reply.score:.2f}"
        if reply.matched_question:
            detail += f"  matched: {reply.matched_question}"
        lines.append(f"    ({detail})")
    return "\n".join(lines)


def format_record(record: "EntryRecord") -> str:
    """An entry with its state and, if it has one, the pending edit beside the live version."""
    from bot.kb.editor import entry_text

    lines = [f"{record.entry.id}  [{record.state}]  version {record.version}, by {record.updated_by} at {record.updated_at:%Y-%m-%d %H:%M}"]
    lines += [f"  {line}" for line in entry_text(record.entry)]
    if record.pending is not None:
        lines.append("  pending edit (live after approval):")
        lines += [f"    {line}" for line in entry_text(record.pending)]
    return "\n".join(lines)


def format_history(revisions: Sequence["Revision"]) -> str:
    return "\n".join(
        f"v{r.version:<4} {r.action:8} {r.status:9} {r.author:16} {r.created_at:%Y-%m-%d %H:%M:%S}" + (f"  ({r.note})" if r.note else "")
        for r in revisions
    )
