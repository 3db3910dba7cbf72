"""`bot shell`: type a buyer message, see the intent and the suggested replies (the engine, interactively)."""

from __future__ import annotations

from typing import Callable

from bot.errors import MessageError
from bot.render import format_suggestion
from bot.suggest import Engine


def run_shell(engine: Engine, read: Callable[[str], str] = input, echo: Callable[[str], None] = print) -> None:
    echo("Type a buyer message (e.g. 能包邮吗). Previous messages count as context; '/new' starts a new chat, '/quit' leaves.")
    history: list[str] = []
    while True:
        try:
            text = read("买家> ")
        except (EOFError, KeyboardInterrupt):
            echo("")
            return
        command = text.strip().lower()
        if command in ("/quit", "/exit", "/q"):
            return
        if command == "/new":
            history.clear()
            echo("(new conversation)")
            continue
        try:
            result = engine.suggest(text, context=history)
        except MessageError as exc:
            echo(f"  ! {exc}")
            continue
        echo(format_suggestion(result))
        history.append(text)
