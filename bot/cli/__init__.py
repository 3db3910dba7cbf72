"""The `bot` command: each subcommand parses its arguments and calls one function elsewhere."""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any, Callable

import click

from bot.cli.accounts import shop, token, user
from bot.cli.kb import kb_group
from bot.cli.options import db_option, settings_for
from bot.errors import BotError, KBValidationError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kefu-bot", prog_name="bot")
def cli() -> None:
    """Reply suggestions for e-commerce customer service (客服回复建议助手).

    Run it from the project directory (where config.yml, domain.yml, data/ and kb/ live).
    """


@cli.command()
@db_option
@click.option("--nlu-only", is_flag=True, help="Train only the NLU part of the Rasa model (faster).")
def train(db_url: str | None, nlu_only: bool) -> None:
    """Import kb/, build the retrieval index and train the Rasa model."""
    from bot.train import train_all

    train_all(settings_for(db_url), nlu_only=nlu_only, echo=click.echo)


@cli.command()
@click.argument("text")
@db_option
@click.option("--context", "-c", multiple=True, metavar="TEXT", help="An earlier buyer message (repeat, oldest first).")
@click.option("-k", "k", type=click.IntRange(1, 20), default=None, help="How many replies (default from bot.yml: 3).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--model", type=click.Path(dir_okay=False, path_type=Path), default=None, help="A Rasa model archive (default: the newest in models/).")
@click.option("--shop", default="default", show_default=True, metavar="NAME", help="The shop whose entries and facts answer.")
def suggest(text: str, db_url: str | None, context: tuple[str, ...], k: int | None, as_json: bool, model: Path | None, shop: str) -> None:
    """Suggest replies for one buyer message, e.g.  bot suggest "能包邮吗"."""
    from bot.context import conversation_of
    from bot.render import format_suggestion
    from bot.suggest import Engine
    from bot.suggestion import check_message

    settings = settings_for(db_url)
    check_message(text, settings.limits.max_message_chars)  # fail fast, before loading the models
    engine = Engine.from_settings(settings, model_path=model, shop=shop)
    result = engine.suggest(text, context=conversation_of(list(context)), k=k)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(format_suggestion(result))


@cli.command()
@db_option
def shell(db_url: str | None) -> None:
    """Type buyer messages and see suggestions as the agent would."""
    from bot.shell import run_shell
    from bot.suggest import Engine

    click.echo("Loading the Rasa model, the encoder and the index ...")
    run_shell(Engine.from_settings(settings_for(db_url)), echo=click.echo)


@cli.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (loopback unless told otherwise).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--model", type=click.Path(dir_okay=False, path_type=Path), default=None, help="A Rasa model archive (default: the newest in models/).")
def serve(db_url: str | None, host: str, port: int, model: Path | None) -> None:
    """Start the agent console (http://HOST:PORT/agent) and the integration API."""
    from bot.server.run import serve as run_server

    run_server(settings_for(db_url), host=host, port=port, model_path=model, echo=click.echo)


@cli.command("eval")
@click.argument("logs", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Where metrics.json, predictions.jsonl and report.html go.")
@click.option("--intent-map", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None, help="YAML: our intent -> the log's label ('*' for all others).")
@click.option("--compare", nargs=2, type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None, metavar="CONFIG_A CONFIG_B", help="Evaluate two configurations side by side.")
@click.option("--model", type=click.Path(dir_okay=False, path_type=Path), default=None, help="A Rasa model archive (default: the newest in models/).")
@db_option
def eval_command(logs: Path, out_dir: Path, intent_map: Path | None, compare: tuple[Path, Path] | None, model: Path | None, db_url: str | None) -> None:
    """Evaluate on a labelled log (JSONL, CSV, TSV with text, intent[, reply_id, conversation_id, turn], or Rasa NLU YAML)."""
    from bot.offline_eval import evaluate_log

    evaluate_log(settings_for(db_url), logs, out_dir, intent_map, model, tuple(compare or ()), echo=click.echo)


@cli.command("report")
@click.option("--since", default="7d", show_default=True, help="Start: 7d / 12h back from now, or a date (shop time) 2026-11-01.")
@click.option("--until", default=None, help="End (default now): a date counts whole, or 2026-11-30T18:00.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Where the CSV files, figures.json and report.html go.")
@click.option("--server", default="http://127.0.0.1:8000", show_default=True, help="The server the report's entry links open.")
@click.option("--no-agents", is_flag=True, help="Leave out the per-agent figures.")
@click.option("--shop", default=None, metavar="NAME", help="Only this shop's conversations (default: every shop's).")
@db_option
def report(since: str, until: str | None, out_dir: Path, server: str, no_agents: bool, shop: str | None, db_url: str | None) -> None:
    """The dashboard's figures from live feedback (acceptance, edits, entries, coverage, speed) as CSV and one HTML page."""
    from bot import shops
    from bot.dashboard import period_of
    from bot.dashboard_report import write_report

    period = period_of(since, until, shops=(shops.check_name(shop),) if shop else None)
    files = write_report(settings_for(db_url).db_url, period, out_dir, server, per_agent=not no_agents)
    click.echo(f"{period.to_dict()['since_shop_time']} to {period.to_dict()['until_shop_time']} (shop time): wrote {len(files)} files to {out_dir}")
    click.echo(f"  open {out_dir / 'report.html'}")


@cli.group("db")
def db_group() -> None:
    """The database: conversations, feedback, accounts and the KB."""


@db_group.command("upgrade")
@db_option
def db_upgrade(db_url: str | None) -> None:
    """Bring the database to this version's schema (Alembic migrations; nothing is lost); a new one is created."""
    from bot.db import upgrade

    settings = settings_for(db_url)
    done = upgrade(settings.db_url)
    if done.created:
        click.echo(f"new database created at schema revision {done.after}")
    elif done.before == done.after:
        click.echo(f"database already at schema revision {done.after}")
    else:
        click.echo(f"database upgraded from {'before migrations' if done.before is None else 'revision ' + done.before} to revision {done.after}")


@db_group.command("prune")
@click.option("--days", type=click.FloatRange(min=0, min_open=True), default=None, help="Keep this many days (default: retention.days in bot.yml).")
@db_option
def db_prune(days: float | None, db_url: str | None) -> None:
    """Delete conversations, messages and feedback older than the retention limit (`bot serve` does it hourly)."""
    from bot.conversations import ConversationStore

    settings = settings_for(db_url)
    keep = days if days is not None else settings.retention.days
    if not keep:
        raise BotError("retention.days is 0 (keep everything): give --days to prune anyway")
    gone = ConversationStore(settings.db_url).prune(keep)
    click.echo(f"older than {keep:g} days: deleted {gone['conversations']} conversations, {gone['messages']} messages, {gone['feedback']} feedback rows")


cli.add_command(user)
cli.add_command(token)
cli.add_command(shop)
cli.add_command(kb_group)


def _run(command: Callable[..., Any]) -> int:
    try:
        command(standalone_mode=False)
        return 0
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KBValidationError as exc:
        click.echo(f"error: {exc}", err=True)
        for problem in exc.problems:
            click.echo(f"  - {problem}", err=True)
        return 1
    except SystemExit as exc:
        return int(exc.code or 0)
    except BotError as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    except Exception as exc:  # one line, not a traceback; BOT_DEBUG=1 shows it
        if os.environ.get("BOT_DEBUG"):
            raise
        click.echo(f"error: unexpected {type(exc).__name__}: {exc} (set BOT_DEBUG=1 for the traceback)", err=True)
        return 1


def main() -> None:
    if not os.environ.get("BOT_DEBUG"):
        os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
    sys.exit(_run(cli))
