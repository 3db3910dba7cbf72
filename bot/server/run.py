"""`bot serve`: load the engine once, then run the web app under uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from bot.settings import Settings


def serve(settings: Settings, host: str, port: int, model_path: Path | None = None, echo: Callable[[str], None] = print) -> None:
    import uvicorn

    from bot.auth import AuthStore
    from bot.conversations import ConversationStore
    from bot.server.app import create_app
    from bot.suggest import Engine

    auth = AuthStore(settings.db_url)  # first: a database that needs `bot db upgrade` is refused before the slow load
    echo("Loading the encoder and the index; the Rasa model loads in the background ...")
    engine = Engine.from_settings(settings, model_path=model_path, nlu_in_background=True)
    password = auth.ensure_admin()
    app = create_app(engine, ConversationStore(settings.db_url), auth=auth)
    if password:
        echo("No accounts yet, so one admin account was made (bot user add makes more; run it again to change a password):")
        echo(f"  log in at http://{host}:{port}/login as  admin  with password  {password}")
    echo(f"Agent console:  http://{host}:{port}/agent")
    echo(f"Customer demo:  http://{host}:{port}/customer?c=demo-1")
    # keep-alive longer than a reverse proxy's (nginx: 60 s), so the proxy never reuses a connection we are closing
    uvicorn.run(app, host=host, port=port, log_level="warning", ws="websockets", timeout_keep_alive=75)
