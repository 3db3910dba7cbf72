"""What every `bot` subcommand shares: the --db option and the settings it selects."""

from __future__ import annotations

import click

from bot.settings import Settings, load_settings

db_option = click.option(
    "--db", "db_url", metavar="URL", default=None,
    help="SQLAlchemy database URL (default: the embedded SQLite file var/bot.sqlite3; also $BOT_DB).",
)


def settings_for(db_url: str | None = None) -> Settings:
    """bot.yml's settings, with the database --db names (if any)."""
    return load_settings(db_url=db_url)
