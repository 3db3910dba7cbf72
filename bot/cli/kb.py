"""`bot kb`: import, export and list the knowledge base, and the editor's workflow (add, edit, approve, ...)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from bot.cli.options import db_option, settings_for
from bot.settings import Settings


@click.group("kb")
def kb_group() -> None:
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

    settings = settings_for(db_url)
    return open_editor(settings, with_index=with_index, store=_store(settings))


def _base(editor, entry_id: str, base_version: int | None) -> int:  # type: ignore[no-untyped-def]
    return base_version if base_version is not None else editor.get(entry_id).version


def _echo_record(record) -> None:  # type: ignore[no-untyped-def]
    from bot.render import format_record

    click.echo(format_record(record))


@kb_group.command("import")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@db_option
@shop_option
@author_option
def kb_import(path: Path | None, db_url: str | None, author: str) -> None:
    """Load kb/ (or a kb-style directory, or a .csv file) into the database; refused whole on any error.

    Entries missing from the source are retired; every changed entry gets a new version in its history.
    """
    from bot.kb.sync import import_kb

    settings = settings_for(db_url)
    report = import_kb(settings, path, store=_store(settings), author=author)
    click.echo(f"imported {report.entries} entries ({report.approved} approved) and {report.shop_variables} shop variables from {path or settings.kb_dir}")


@kb_group.command("export")
@click.argument("out", type=click.Path(path_type=Path))
@db_option
@shop_option
def kb_export(out: Path, db_url: str | None) -> None:
    """Write the database's KB to OUT: a directory (shop.yml + entries/<intent>.yml) or a .csv file."""
    from bot.kb.sync import export_kb

    settings = settings_for(db_url)
    written = export_kb(settings, out, store=_store(settings))
    click.echo(f"wrote {len(written)} file(s) to {out}")


@kb_group.command("nlu")
@db_option
@shop_option
def kb_nlu(db_url: str | None) -> None:
    """Write the KB's approved questions as Rasa NLU examples (data/nlu/kb_questions.yml).

    The default shop's KB in the database is first brought up to date with kb/ (imported if kb/ changed since the last
    import, as `bot train` does): after editing kb/, this writes kb/'s questions, and on a fresh database it does not
    write an empty file over the committed one."""
    from bot import shops
    from bot.errors import BotError
    from bot.kb.nlu_export import not_the_default_shop, write_kb_nlu
    from bot.kb.sync import import_kb_if_changed

    shop = click.get_current_context().meta.get("shop", shops.DEFAULT_SHOP)
    if shop != shops.DEFAULT_SHOP:  # as the editor's button: one Rasa model serves every shop
        raise BotError(not_the_default_shop(shop))
    settings = settings_for(db_url)
    store = _store(settings)
    import_kb_if_changed(settings, store)
    content = store.approved()
    path = write_kb_nlu(content, settings.project_dir / "data" / "nlu")
    click.echo(f"wrote {path} ({len(content.entries)} approved entries)")


@kb_group.command("list")
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


@kb_group.command("show")
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


@kb_group.command("add")
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


@kb_group.command("edit")
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


@kb_group.command("variant")
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
    @kb_group.command(name, help=help_text)
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


@kb_group.command("revert")
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


@kb_group.command("diff")
@click.argument("entry_id")
@click.argument("version", type=int)
@click.option("--against", type=int, default=None, help="Compare with this version (default: the one before).")
@db_option
@shop_option
def kb_diff(entry_id: str, version: int, against: int | None, db_url: str | None) -> None:
    """What a version changed."""
    click.echo("\n".join(_editor(db_url).diff(entry_id, version, against)["diff"]))
