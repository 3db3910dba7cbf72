"""The errors the engine reports to people: each reads as one clear line."""

from __future__ import annotations


class BotError(Exception):
    """An error meant for the user: the CLI prints it as one line and exits non-zero."""


class MessageError(BotError):
    """A buyer message that cannot be processed (empty, too long, not text)."""


class ConfigError(BotError):
    """A missing or invalid setting, model or file."""


class KBValidationError(BotError):
    """A knowledge-base file (or set of files) that was refused; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        head = problems[0] if problems else "invalid knowledge base"
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(f"knowledge base refused, nothing imported: {head}{more}")
