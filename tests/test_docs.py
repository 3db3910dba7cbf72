"""The docs name what a user can set: every `bot` command and option in the README's table, every setting somewhere."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Iterator

import click
from ruamel.yaml import YAML

from bot.cli import cli
from bot.settings import load_settings

PROJECT = Path(__file__).resolve().parents[1]


# Options the README documents once for many commands, each with the sentence that does it.
DOCUMENTED_ONCE = {
    "--db": "Every command that touches the KB takes `--db URL`",
    "--author": "CLI editing commands take `--author`",
    "--version": "and `--version`, the version\nyou reviewed",
}
KB_SHOP = "every `bot kb` command takes `--shop NAME`"


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


def test_every_command_and_option_is_in_the_readme() -> None:
    """The README's command table names every `bot` command and each of its options (a short or a long form), but
    for the few it documents once for all."""
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    for sentence in (*DOCUMENTED_ONCE.values(), KB_SHOP):
        assert sentence in readme, sentence
    rows = [line for line in readme.splitlines() if line.startswith("| `bot ")]
    missing = []
    for path, command in _commands(cli):
        *groups, leaf = path
        # `bot kb approve\|retire\|discard ID` names three commands in one cell
        name = re.compile("`bot " + "".join(f"{re.escape(g)} " for g in groups) + r"(?:[\w-]+\\\|)*" + re.escape(leaf) + r"[\s`\\]")
        row = next((line for line in rows if name.search(line)), None)
        if row is None:
            missing.append(" ".join(path))
            continue
        for option in (p for p in command.params if isinstance(p, click.Option)):
            spelled = [o for o in option.opts if re.search(re.escape(o) + r"(?![\w-])", row)]
            once = [o for o in option.opts if o in DOCUMENTED_ONCE or (o == "--shop" and groups == ["kb"])]
            if not spelled and not once and "--help" not in option.opts:
                missing.append(f"{' '.join(path)} {'/'.join(option.opts)}")
    assert not missing, f"not in the README's command table: {missing}"


def test_every_setting_is_in_bot_yml_or_the_docs() -> None:
    """Each field of the settings' sections is in bot.yml (each with its comment there) or named in the README or docs/."""
    configured = YAML(typ="safe", pure=True).load((PROJECT / "bot.yml").read_text(encoding="utf-8"))
    docs = "\n".join(p.read_text(encoding="utf-8") for p in [PROJECT / "README.md", *sorted((PROJECT / "docs").glob("*.md"))])
    settings = load_settings(PROJECT)
    missing = []
    for section in dataclasses.fields(settings):
        value = getattr(settings, section.name)
        if not dataclasses.is_dataclass(value):
            continue  # paths and URLs: the README's environment variables
        for field in dataclasses.fields(value):
            named = f"{section.name}.{field.name}" in docs or f"`{field.name}`" in docs
            if field.name not in (configured.get(section.name) or {}) and not named:
                missing.append(f"{section.name}.{field.name}")
    assert missing == [], f"documented nowhere: {missing}"
