"""Readable text for a suggestion, as the CLI and the shell print it."""

from __future__ import annotations

from bot.suggest import Suggestion


def format_suggestion(result: Suggestion, ranking: int = 3) -> str:
    top = ", ".join(f"{s.name} {s.confidence:.2f}" for s in result.intent_ranking[:ranking])
    lines = [f"intent: {result.intent.name} ({result.intent.confidence:.2f})   [{top}]"]
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
