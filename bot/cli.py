"""The `bot` command: each subcommand parses its arguments and calls one function elsewhere."""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any, Callable

import click

from bot.errors import BotError, KBValidationError
from bot.settings import Settings, load_settings

db_option = click.option(
    "--db", "db_url", metavar="URL", default=None,
    help="SQLAlchemy database URL (default: the embedded SQLite file var/bot.sqlite3; also $BOT_DB).",
)


def _settings(db_url: str | None = None) -> Settings:
    return load_settings(db_url=db_url)


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

    train_all(_settings(db_url), nlu_only=nlu_only, echo=click.echo)


@cli.command()
@click.argument("text")
@db_option
@click.option("--context", "-c", multiple=True, metavar="TEXT", help="An earlier buyer message (repeat, oldest first).")
@click.option("-k", "k", type=click.IntRange(1, 20), default=None, help="How many replies (default from bot.yml: 3).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--model", type=click.Path(dir_okay=False, path_type=Path), default=None, help="A Rasa model archive (default: the newest in models/).")
def suggest(text: str, db_url: str | None, context: tuple[str, ...], k: int | None, as_json: bool, model: Path | None) -> None:
    """Suggest replies for one buyer message, e.g.  bot suggest "能包邮吗"."""
    from bot.render import format_suggestion
    from bot.suggest import Engine, check_message

    settings = _settings(db_url)
    check_message(text, settings.limits.max_message_chars)  # fail fast, before loading the models
    engine = Engine.from_settings(settings, model_path=model)
    result = engine.suggest(text, context=list(context), k=k)
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
    run_shell(Engine.from_settings(_settings(db_url)), echo=click.echo)


@cli.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (loopback unless told otherwise).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--model", type=click.Path(dir_okay=False, path_type=Path), default=None, help="A Rasa model archive (default: the newest in models/).")
def serve(db_url: str | None, host: str, port: int, model: Path | None) -> None:
    """Start the agent console (http://HOST:PORT/agent) and the integration API."""
    from bot.server.run import serve as run_server

    run_server(_settings(db_url), host=host, port=port, model_path=model, echo=click.echo)


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

    evaluate_log(_settings(db_url), logs, out_dir, intent_map, model, tuple(compare or ()), echo=click.echo)


@cli.group()
def kb() -> None:
    """The knowledge base: import, export, list."""


@kb.command("import")
@click.argument("path", required=False, type=click.Path(file_okay=False, path_type=Path))
@db_option
def kb_import(path: Path | None, db_url: str | None) -> None:
    """Load kb/ (or PATH) into the database, replacing its KB; refused whole on any error."""
    from bot.kb.sync import import_kb

    settings = _settings(db_url)
    report = import_kb(settings, path)
    click.echo(f"imported {report.entries} entries ({report.approved} approved) and {report.shop_variables} shop variables from {path or settings.kb_dir}")


@kb.command("export")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@db_option
def kb_export(out_dir: Path, db_url: str | None) -> None:
    """Write the database's KB to OUT_DIR as shop.yml + entries/<intent>.yml."""
    from bot.kb.sync import export_kb

    written = export_kb(_settings(db_url), out_dir)
    click.echo(f"wrote {len(written)} files to {out_dir}")


@kb.command("nlu")
@db_option
def kb_nlu(db_url: str | None) -> None:
    """Write the KB's approved questions as Rasa NLU examples (data/nlu/kb_questions.yml)."""
    from bot.kb.nlu_export import write_kb_nlu
    from bot.kb.store import KBStore

    settings = _settings(db_url)
    path = write_kb_nlu(KBStore(settings.db_url).approved(), settings.project_dir / "data" / "nlu")
    click.echo(f"wrote {path}")


@kb.command("list")
@db_option
@click.option("--intent", default=None, help="Only entries of this intent.")
@click.option("--status", type=click.Choice(["approved", "draft"]), default=None)
def kb_list(db_url: str | None, intent: str | None, status: str | None) -> None:
    """One line per entry: id, intent, status, first question."""
    from bot.kb.store import KBStore

    content = KBStore(_settings(db_url).db_url).load(status=status)
    shown = [e for e in content.entries if intent is None or e.intent == intent]
    for entry in shown:
        click.echo(f"{entry.id:40} {entry.intent:20} {entry.status:9} {entry.questions[0]}")
    click.echo(f"{len(shown)} entries", err=True)


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
