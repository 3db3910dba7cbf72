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
@click.option("--shop", default="default", show_default=True, metavar="NAME", help="The shop whose entries and facts answer.")
def suggest(text: str, db_url: str | None, context: tuple[str, ...], k: int | None, as_json: bool, model: Path | None, shop: str) -> None:
    """Suggest replies for one buyer message, e.g.  bot suggest "能包邮吗"."""
    from bot.context import conversation_of
    from bot.render import format_suggestion
    from bot.suggest import Engine
    from bot.suggestion import check_message

    settings = _settings(db_url)
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
    files = write_report(_settings(db_url).db_url, period, out_dir, server, per_agent=not no_agents)
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

    settings = _settings(db_url)
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

    settings = _settings(db_url)
    keep = days if days is not None else settings.retention.days
    if not keep:
        raise BotError("retention.days is 0 (keep everything): give --days to prune anyway")
    gone = ConversationStore(settings.db_url).prune(keep)
    click.echo(f"older than {keep:g} days: deleted {gone['conversations']} conversations, {gone['messages']} messages, {gone['feedback']} feedback rows")


def _existing_shops(db, names: tuple[str, ...]) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    """The shops named with --shop, each one that exists (a typo would serve nothing); the default shop always may."""
    from bot import shops

    return tuple(name if name == shops.DEFAULT_SHOP else shops.must_exist(db, shops.check_name(name)) for name in names)


def _served(row: dict[str, Any]) -> str:
    """The shops an account or token serves, as `bot user list` and `bot token list` show them."""
    return "every shop" if row["role"] == "admin" else ",".join(row["shops"])


@cli.group()
def user() -> None:
    """Accounts for the web pages: agent (console), editor (and the KB editor), admin (everything)."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["agent", "editor", "admin"]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="Asked for when not given (8+ characters).")
@click.option("--shop", "shops", multiple=True, metavar="NAME", help="A shop it serves (repeat for each; default: an existing account keeps its shops, a new one serves the shop 'default'; admins serve every shop).")
@db_option
def user_add(name: str, role: str, password: str, shops: tuple[str, ...], db_url: str | None) -> None:
    """Create an account, or change an existing one's role and password (which logs it out everywhere)."""
    from bot.auth import AuthStore

    auth = AuthStore(_settings(db_url).db_url)
    auth.add_user(name, role, password, shops=_existing_shops(auth.db, shops) or None)
    click.echo(f"{name}: {role}")


@user.command("list")
@db_option
def user_list(db_url: str | None) -> None:
    """Accounts and their roles."""
    from bot.auth import AuthStore

    for row in AuthStore(_settings(db_url).db_url).users():
        click.echo(f"{row['name']}\t{row['role']}\t{_served(row)}\t{row['created_at']}")


@user.command("remove")
@click.argument("name")
@db_option
def user_remove(name: str, db_url: str | None) -> None:
    """Delete an account and end its sessions."""
    from bot.auth import AuthStore

    if not AuthStore(_settings(db_url).db_url).remove_user(name):
        raise BotError(f"no account '{name}'")
    click.echo(f"removed {name}")


@cli.group()
def token() -> None:
    """API tokens for integrations (Authorization: Bearer ...); they reach the JSON API, never the pages."""


@token.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["integration", "agent", "editor", "admin"]), default="integration", show_default=True,
              help="integration: conversation messages, suggestions, replies and feedback only.")
@click.option("--shop", "shops", multiple=True, metavar="NAME", help="A shop it serves (repeat for each; default: the shop 'default'; an admin token serves every shop).")
@db_option
def token_add(name: str, role: str, shops: tuple[str, ...], db_url: str | None) -> None:
    """Make a token (printed once; only its hash is stored). A token of the same name is replaced."""
    from bot.auth import AuthStore

    auth = AuthStore(_settings(db_url).db_url)
    click.echo(auth.add_token(name, role, shops=_existing_shops(auth.db, shops) or None))


@token.command("list")
@db_option
def token_list(db_url: str | None) -> None:
    """Token names and roles (the tokens themselves are not stored)."""
    from bot.auth import AuthStore

    for row in AuthStore(_settings(db_url).db_url).tokens():
        click.echo(f"{row['name']}\t{row['role']}\t{_served(row)}\t{row['created_at']}")


@token.command("remove")
@click.argument("name")
@db_option
def token_remove(name: str, db_url: str | None) -> None:
    """Revoke a token at once."""
    from bot.auth import AuthStore

    if not AuthStore(_settings(db_url).db_url).remove_token(name):
        raise BotError(f"no token '{name}'")
    click.echo(f"revoked {name}")


@cli.group()
def shop() -> None:
    """The shops this deployment serves: each has its own entries and profile, and inherits the common layer."""


@shop.command("add")
@click.argument("name")
@click.option("--profile", "profile_file", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The shop's facts, as in kb/shop.yml (variable: value), which fill its answers.")
@db_option
def shop_add(name: str, profile_file: Path, db_url: str | None) -> None:
    """Add a shop: it answers from the common layer at once, filled with its profile; `bot kb import --shop NAME` adds its own entries."""
    from bot import shops
    from bot.db import connect
    from bot.kb.files import read_profile

    profile = read_profile(profile_file)
    shops.add(connect(_settings(db_url).db_url), name, profile)
    click.echo(f"added shop {name} ({len(profile)} profile values)")


@shop.command("list")
@db_option
def shop_list(db_url: str | None) -> None:
    """One line per shop: name, its own entries, its conversations, when it was added."""
    from bot import shops
    from bot.db import connect

    for info in shops.listing(connect(_settings(db_url).db_url)):
        click.echo(f"{info.name:24} {info.entries:>7} entries {info.conversations:>9} conversations  added {info.created_at:%Y-%m-%d %H:%M}")


@shop.command("remove")
@click.argument("name")
@db_option
def shop_remove(name: str, db_url: str | None) -> None:
    """Remove a shop with its own entries and profile (refused while it has conversations: they are records)."""
    from bot import shops
    from bot.db import connect

    shops.remove(connect(_settings(db_url).db_url), name)
    click.echo(f"removed shop {name}")


@cli.group()
def kb() -> None:
    """The knowledge base: import, export, list, and the editor's workflow (add, edit, approve, ...)."""


author_option = click.option(
    "--author", default=lambda: os.environ.get("USER") or "cli", show_default="$USER", help="Who makes the change (kept in the history)."
)
version_option = click.option(
    "--version", "base_version", type=int, default=None, help="The version you reviewed (default: the current one); a newer one is a conflict."
)


def _remember_shop(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        ctx.meta["shop"] = value
    return value


shop_option = click.option(
    "--shop", default=None, metavar="NAME", expose_value=False, callback=_remember_shop, is_eager=True,
    help="The shop whose entries to work on, or 'common' for the layer every shop inherits (default: the shop 'default').",
)


def _store(settings: Settings):  # type: ignore[no-untyped-def]
    """The KB store of the shop --shop names (it must exist; the default shop comes with the first import)."""
    from bot import shops
    from bot.kb.store import KBStore

    shop = click.get_current_context().meta.get("shop", shops.DEFAULT_SHOP)
    store = KBStore(settings.db_url, shop)
    if shop != shops.DEFAULT_SHOP:
        shops.must_exist(store.db, shop)
    return store


def _editor(db_url: str | None, with_index: bool = False):  # type: ignore[no-untyped-def]
    from bot.kb.editor import open_editor

    settings = _settings(db_url)
    return open_editor(settings, with_index=with_index, store=_store(settings))


def _base(editor, entry_id: str, base_version: int | None) -> int:  # type: ignore[no-untyped-def]
    return base_version if base_version is not None else editor.get(entry_id).version


def _echo_record(record) -> None:  # type: ignore[no-untyped-def]
    from bot.render import format_record

    click.echo(format_record(record))


@kb.command("import")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@db_option
@shop_option
@author_option
def kb_import(path: Path | None, db_url: str | None, author: str) -> None:
    """Load kb/ (or a kb-style directory, or a .csv file) into the database; refused whole on any error.

    Entries missing from the source are retired; every changed entry gets a new version in its history.
    """
    from bot.kb.sync import import_kb

    settings = _settings(db_url)
    report = import_kb(settings, path, store=_store(settings), author=author)
    click.echo(f"imported {report.entries} entries ({report.approved} approved) and {report.shop_variables} shop variables from {path or settings.kb_dir}")


@kb.command("export")
@click.argument("out", type=click.Path(path_type=Path))
@db_option
@shop_option
def kb_export(out: Path, db_url: str | None) -> None:
    """Write the database's KB to OUT: a directory (shop.yml + entries/<intent>.yml) or a .csv file."""
    from bot.kb.sync import export_kb

    settings = _settings(db_url)
    written = export_kb(settings, out, store=_store(settings))
    click.echo(f"wrote {len(written)} file(s) to {out}")


@kb.command("nlu")
@db_option
@shop_option
def kb_nlu(db_url: str | None) -> None:
    """Write the KB's approved questions as Rasa NLU examples (data/nlu/kb_questions.yml)."""
    from bot.kb.nlu_export import write_kb_nlu

    settings = _settings(db_url)
    path = write_kb_nlu(_store(settings).approved(), settings.project_dir / "data" / "nlu")
    click.echo(f"wrote {path}")


@kb.command("list")
@db_option
@shop_option
@click.option("--intent", default=None, help="Only entries of this intent.")
@click.option("--tag", default=None, help="Only entries with this tag.")
@click.option("--status", type=click.Choice(["approved", "draft", "retired", "pending"]), default=None, help="pending: approved with an edit waiting.")
@click.option("--search", "-s", default=None, help="Text in the id, questions, answer or tags.")
def kb_list(db_url: str | None, intent: str | None, tag: str | None, status: str | None, search: str | None) -> None:
    """One line per entry: id, intent, state, version, first question."""
    records = _editor(db_url).list(intent=intent, tag=tag, status=status, search=search)
    for record in records:
        head = record.head
        click.echo(f"{record.entry.id:40} {head.intent:20} {record.state:22} v{record.version:<4} {head.questions[0]}")
    click.echo(f"{len(records)} entries", err=True)


@kb.command("show")
@click.argument("entry_id")
@db_option
@shop_option
def kb_show(entry_id: str, db_url: str | None) -> None:
    """An entry, its pending edit if any, and its history."""
    from bot.render import format_history

    editor = _editor(db_url)
    _echo_record(editor.get(entry_id))
    click.echo("history:")
    click.echo(format_history(editor.store.history(entry_id)))


def _content_options(command):  # type: ignore[no-untyped-def]
    for option in reversed((
        click.option("--intent", default=None, help="The intent the entry answers."),
        click.option("--question", "-q", "questions", multiple=True, help="A buyer phrasing (repeat for each)."),
        click.option("--answer", "-a", default=None, help="The approved reply; may use {shop_name} and the other shop variables."),
        click.option("--tag", "-t", "tags", multiple=True, help="A tag (repeat for each)."),
    )):
        command = option(command)
    return command


@kb.command("add")
@_content_options
@click.option("--id", "entry_id", default=None, help="The new entry's id (default: <intent>.newN).")
@click.option("--force", is_flag=True, help="Create it even when close entries exist (they are listed otherwise).")
@db_option
@shop_option
@author_option
def kb_add(intent: str | None, questions: tuple[str, ...], answer: str | None, tags: tuple[str, ...], entry_id: str | None, force: bool, db_url: str | None, author: str) -> None:
    """Add an entry as a draft (approve it to make it live). Close existing entries are shown first."""
    from bot.kb.editor import NearDuplicates

    editor = _editor(db_url, with_index=not force)
    data = {"id": entry_id, "intent": intent, "questions": list(questions), "answer": answer or "", "tags": list(tags)}
    try:
        record = editor.create(data, author, allow_similar=force)
    except NearDuplicates as exc:
        click.echo("similar entries exist; add the question to one of them with `bot kb variant ID QUESTION`, or use --force:", err=True)
        for match in exc.matches:
            click.echo(f"  {match['id']:40} {match['score']:.2f}  {match['question']} ~ {match['matched']}", err=True)
        raise SystemExit(1) from exc
    _echo_record(record)


@kb.command("edit")
@click.argument("entry_id")
@_content_options
@click.option("--add-question", multiple=True, help="Add a phrasing to the current ones.")
@version_option
@db_option
@shop_option
@author_option
def kb_edit(entry_id: str, intent: str | None, questions: tuple[str, ...], answer: str | None, tags: tuple[str, ...], add_question: tuple[str, ...], base_version: int | None, db_url: str | None, author: str) -> None:
    """Change an entry; saved as a draft (an approved entry stays live until the edit is approved)."""
    editor = _editor(db_url)
    record = editor.get(entry_id)
    head = record.head
    data = {
        "intent": intent or head.intent,
        "questions": list(questions or head.questions) + list(add_question),
        "answer": answer if answer is not None else head.answer,
        "tags": list(tags or head.tags),
    }
    _echo_record(editor.edit(entry_id, data, base_version if base_version is not None else record.version, author))


@kb.command("variant")
@click.argument("entry_id")
@click.argument("questions", nargs=-1, required=True)
@click.option("--approve", is_flag=True, help="Approve at once, so the new phrasings are live.")
@version_option
@db_option
@shop_option
@author_option
def kb_variant(entry_id: str, questions: tuple[str, ...], approve: bool, base_version: int | None, db_url: str | None, author: str) -> None:
    """Add buyer phrasings to an existing entry."""
    editor = _editor(db_url)
    _echo_record(editor.add_variants(entry_id, questions, _base(editor, entry_id, base_version), author, approve=approve))


def _state_command(name: str, help_text: str) -> None:
    @kb.command(name, help=help_text)
    @click.argument("entry_id")
    @version_option
    @db_option
    @shop_option
    @author_option
    def command(entry_id: str, base_version: int | None, db_url: str | None, author: str) -> None:
        editor = _editor(db_url)
        _echo_record(getattr(editor, name)(entry_id, _base(editor, entry_id, base_version), author))


_state_command("approve", "Make the entry's draft (or pending edit) live; running servers pick it up within a second.")
_state_command("retire", "Stop suggesting the entry (kept with its history).")
_state_command("discard", "Drop an approved entry's pending edit.")


@kb.command("revert")
@click.argument("entry_id")
@click.argument("to_version", type=int)
@version_option
@db_option
@shop_option
@author_option
def kb_revert(entry_id: str, to_version: int, base_version: int | None, db_url: str | None, author: str) -> None:
    """Bring back an earlier version's content as a draft (approve it to make it live)."""
    editor = _editor(db_url)
    _echo_record(editor.revert(entry_id, to_version, _base(editor, entry_id, base_version), author))


@kb.command("diff")
@click.argument("entry_id")
@click.argument("version", type=int)
@click.option("--against", type=int, default=None, help="Compare with this version (default: the one before).")
@db_option
@shop_option
def kb_diff(entry_id: str, version: int, against: int | None, db_url: str | None) -> None:
    """What a version changed."""
    click.echo("\n".join(_editor(db_url).diff(entry_id, version, against)["diff"]))


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
