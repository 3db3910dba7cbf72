"""`bot user`, `bot token` and `bot shop`: the accounts and tokens of the web pages and API, and the shops they serve."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from bot.cli.options import db_option, settings_for
from bot.errors import BotError


def _existing_shops(db, names: tuple[str, ...]) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    """The shops named with --shop, each one that exists (a typo would serve nothing); the default shop always may."""
    from bot import shops

    return tuple(name if name == shops.DEFAULT_SHOP else shops.must_exist(db, shops.check_name(name)) for name in names)


def _listing(row: dict[str, Any]) -> str:
    """An account or token as `bot user list` and `bot token list` show it: name, role, the shops it serves, created."""
    served = "every shop" if row["role"] == "admin" else ",".join(row["shops"])
    return f"{row['name']}\t{row['role']}\t{served}\t{row['created_at']}"


@click.group()
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

    auth = AuthStore(settings_for(db_url).db_url)
    auth.add_user(name, role, password, shops=_existing_shops(auth.db, shops) or None)
    click.echo(f"{name}: {role}")


@user.command("list")
@db_option
def user_list(db_url: str | None) -> None:
    """Accounts and their roles."""
    from bot.auth import AuthStore

    for row in AuthStore(settings_for(db_url).db_url).users():
        click.echo(_listing(row))


@user.command("remove")
@click.argument("name")
@db_option
def user_remove(name: str, db_url: str | None) -> None:
    """Delete an account and end its sessions."""
    from bot.auth import AuthStore

    if not AuthStore(settings_for(db_url).db_url).remove_user(name):
        raise BotError(f"no account '{name}'")
    click.echo(f"removed {name}")


@click.group()
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

    auth = AuthStore(settings_for(db_url).db_url)
    click.echo(auth.add_token(name, role, shops=_existing_shops(auth.db, shops) or None))


@token.command("list")
@db_option
def token_list(db_url: str | None) -> None:
    """Token names and roles (the tokens themselves are not stored)."""
    from bot.auth import AuthStore

    for row in AuthStore(settings_for(db_url).db_url).tokens():
        click.echo(_listing(row))


@token.command("remove")
@click.argument("name")
@db_option
def token_remove(name: str, db_url: str | None) -> None:
    """Revoke a token at once."""
    from bot.auth import AuthStore

    if not AuthStore(settings_for(db_url).db_url).remove_token(name):
        raise BotError(f"no token '{name}'")
    click.echo(f"revoked {name}")


@click.group()
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
    shops.add(connect(settings_for(db_url).db_url), name, profile)
    click.echo(f"added shop {name} ({len(profile)} profile values)")


@shop.command("list")
@db_option
def shop_list(db_url: str | None) -> None:
    """One line per shop: name, its own entries, its conversations, when it was added."""
    from bot import shops
    from bot.db import connect

    for info in shops.listing(connect(settings_for(db_url).db_url)):
        click.echo(f"{info.name:24} {info.entries:>7} entries {info.conversations:>9} conversations  added {info.created_at:%Y-%m-%d %H:%M}")


@shop.command("remove")
@click.argument("name")
@db_option
def shop_remove(name: str, db_url: str | None) -> None:
    """Remove a shop with its own entries and profile (refused while it has conversations: they are records)."""
    from bot import shops
    from bot.db import connect

    shops.remove(connect(settings_for(db_url).db_url), name)
    click.echo(f"removed shop {name}")
