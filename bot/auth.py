"""Accounts, roles, browser sessions and API tokens: argon2 password hashes, hashed session and token secrets."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Sequence

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection

from bot.db import (
    api_tokens_table,
    connect,
    now,
    password_changes_due_table,
    sessions_table,
    token_shops_table,
    user_shops_table,
    users_table,
)
from bot.errors import BotError
from bot.shops import DEFAULT_SHOP, check_name

ROLES = ("agent", "editor", "admin")
TOKEN_ROLES = ("integration", *ROLES)
# What each role may do. "converse": the conversation API an integration needs (buyer messages in,
# suggestions and replies out, feedback); "console": the agent and demo pages and their helpers;
# "edit": the editor and every KB or traffic change; "admin": accounts.
PERMISSIONS = {
    "integration": frozenset({"converse"}),
    "agent": frozenset({"converse", "console"}),
    "editor": frozenset({"converse", "console", "edit", "dashboard"}),
    "admin": frozenset({"converse", "console", "edit", "dashboard", "admin"}),
}
NAME = re.compile(r"^[\w.@-]{1,64}\Z")
MIN_PASSWORD, MAX_PASSWORD = 8, 1024
_hasher = PasswordHasher()  # argon2id with the library's current parameters
_DUMMY_HASH = _hasher.hash("timing-equaliser")


class AuthError(BotError):
    """A bad account name, role or password (the message says which)."""


@dataclass(frozen=True)
class Principal:
    """Who a request comes from: a logged-in person (session) or an integration (API token)."""

    name: str
    role: str
    via: str  # "session" | "token"
    csrf: str = ""  # the session's CSRF token; state-changing requests must echo it
    must_change_password: bool = False  # a session of an account whose password was made for it: only /password
    shops: frozenset[str] = frozenset()  # the shops it serves (an admin serves every shop)

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())

    @property
    def every_shop(self) -> bool:
        return self.role == "admin"

    def serves(self, shop: str) -> bool:
        """May it see this shop's conversations and work on its entries?"""
        return self.every_shop or shop in self.shops

    @property
    def may_edit_common(self) -> bool:
        """The common layer reaches every shop: only an admin changes it."""
        return self.role == "admin"

    def visible_shops(self) -> frozenset[str] | None:
        """The shops whose conversations it sees (None: all)."""
        return None if self.every_shop else self.shops


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise AuthError("account names are 1-64 letters, digits or . @ _ -")
    return name


class AuthStore:
    """Users, sessions and tokens in the project database."""

    def __init__(self, db_url: str) -> None:
        self.db = connect(db_url)

    # -- accounts -----------------------------------------------------------------------------

    def add_user(self, name: str, role: str, password: str, must_change: bool = False, shops: Sequence[str] | None = None) -> None:
        """Create the account, or give an existing one this role and password (and log it out everywhere);
        `must_change`: the password was made for the account, which must choose its own at its first login.
        `shops`: the shops it serves (None: an existing account keeps its own, a new one serves the default shop)."""
        _check_name(name)
        if role not in ROLES:
            raise AuthError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise AuthError(f"passwords are {MIN_PASSWORD}-{MAX_PASSWORD} characters")
        served = _shops(shops)
        hashed = _hasher.hash(password)
        with self.db.begin() as conn:
            exists = conn.execute(sa.select(users_table.c.name).where(users_table.c.name == name)).first()
            if exists:
                conn.execute(users_table.update().where(users_table.c.name == name).values(role=role, password_hash=hashed))
                conn.execute(sessions_table.delete().where(sessions_table.c.user_name == name))
            else:
                conn.execute(users_table.insert().values(name=name, role=role, password_hash=hashed, created_at=now()))
                served = served or (DEFAULT_SHOP,)
            if served:
                conn.execute(user_shops_table.delete().where(user_shops_table.c.user_name == name))
                conn.execute(user_shops_table.insert(), [{"user_name": name, "shop": shop} for shop in served])
            conn.execute(password_changes_due_table.delete().where(password_changes_due_table.c.user_name == name))
            if must_change:
                conn.execute(password_changes_due_table.insert().values(user_name=name, created_at=now()))

    def change_password(self, name: str, current: str, new: str) -> None:
        """The account's own new password (the current one first); ends all its sessions, clears a due change."""
        if self.verify(name, current) is None:
            raise AuthError("the current password is wrong")
        if new == current:
            raise AuthError("the new password must differ from the current one")
        role = self.role(name)
        if role is None:
            raise AuthError(f"no account '{name}'")
        self.add_user(name, role, new)  # keeps the shops it serves

    def password_change_due(self, name: str) -> bool:
        with self.db.connect() as conn:
            return conn.execute(sa.select(password_changes_due_table.c.user_name).where(password_changes_due_table.c.user_name == name)).first() is not None

    def role(self, name: str) -> str | None:
        with self.db.connect() as conn:
            row = conn.execute(sa.select(users_table.c.role).where(users_table.c.name == name)).first()
        return str(row.role) if row else None

    def remove_user(self, name: str) -> bool:
        with self.db.begin() as conn:
            conn.execute(sessions_table.delete().where(sessions_table.c.user_name == name))
            conn.execute(password_changes_due_table.delete().where(password_changes_due_table.c.user_name == name))
            conn.execute(user_shops_table.delete().where(user_shops_table.c.user_name == name))
            return bool(conn.execute(users_table.delete().where(users_table.c.name == name)).rowcount)

    def users(self) -> list[dict[str, Any]]:
        with self.db.connect() as conn:
            rows = conn.execute(sa.select(users_table.c.name, users_table.c.role, users_table.c.created_at).order_by(users_table.c.name)).all()
            served = _served(conn, user_shops_table, user_shops_table.c.user_name)
        return [{"name": r.name, "role": r.role, "shops": served.get(r.name, []), "created_at": r.created_at.isoformat() + "Z"} for r in rows]

    def has_users(self) -> bool:
        with self.db.connect() as conn:
            return conn.execute(sa.select(users_table.c.name).limit(1)).first() is not None

    def ensure_admin(self) -> str | None:
        """On a database with no accounts, create `admin` with a random password and return the password."""
        if self.has_users():
            return None
        password = secrets.token_urlsafe(12)
        self.add_user("admin", "admin", password, must_change=True)
        return password

    def verify(self, name: str, password: str) -> str | None:
        """The account's role when the password is right; None otherwise (same work either way)."""
        if not isinstance(name, str) or not isinstance(password, str) or len(password) > MAX_PASSWORD:
            return None
        with self.db.connect() as conn:
            row = conn.execute(sa.select(users_table.c.role, users_table.c.password_hash).where(users_table.c.name == name)).first()
        try:
            _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if _hasher.check_needs_rehash(row.password_hash):
            with self.db.begin() as conn:
                conn.execute(users_table.update().where(users_table.c.name == name).values(password_hash=_hasher.hash(password)))
        return str(row.role)

    # -- browser sessions ---------------------------------------------------------------------

    def start_session(self, name: str, hours: float) -> tuple[str, str]:
        """A new session for the account: (cookie token, CSRF token). Expired sessions are cleared on the way."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self.db.begin() as conn:
            conn.execute(sessions_table.delete().where(sessions_table.c.expires_at < now()))
            conn.execute(sessions_table.insert().values(token_hash=_digest(token), user_name=name, csrf=csrf, expires_at=now() + timedelta(hours=hours)))
        return token, csrf

    def session(self, token: str) -> Principal | None:
        if not token or len(token) > 128:
            return None
        query = (
            sa.select(users_table.c.name, users_table.c.role, sessions_table.c.csrf, sessions_table.c.expires_at,
                      password_changes_due_table.c.user_name.label("change_due"))
            .select_from(sessions_table.join(users_table, sessions_table.c.user_name == users_table.c.name)
                         .outerjoin(password_changes_due_table, password_changes_due_table.c.user_name == users_table.c.name))
            .where(sessions_table.c.token_hash == _digest(token))
        )
        with self.db.connect() as conn:
            row = conn.execute(query).first()
            if row is None or row.expires_at < now():
                return None
            shops = [] if row.role == "admin" else _served(conn, user_shops_table, user_shops_table.c.user_name, row.name).get(row.name, [])
        return Principal(row.name, row.role, "session", row.csrf, must_change_password=row.change_due is not None, shops=frozenset(shops))

    @staticmethod
    def session_key(token: str) -> str:
        """What the database keeps of a session token (its SHA-256): how open pages are tied to their session."""
        return _digest(token)

    def live_sessions(self, keys: set[str]) -> set[str]:
        """Those of these session keys whose session still holds: not logged out, expired, or its account removed
        or given a new password (one query for all open pages)."""
        if not keys:
            return set()
        query = (
            sa.select(sessions_table.c.token_hash)
            .select_from(sessions_table.join(users_table, sessions_table.c.user_name == users_table.c.name))
            .where(sessions_table.c.token_hash.in_(sorted(keys)), sessions_table.c.expires_at >= now())
        )
        with self.db.connect() as conn:
            return {row.token_hash for row in conn.execute(query)}

    def end_session(self, token: str) -> None:
        with self.db.begin() as conn:
            conn.execute(sessions_table.delete().where(sessions_table.c.token_hash == _digest(token)))

    # -- API tokens ---------------------------------------------------------------------------

    def add_token(self, name: str, role: str = "integration", shops: Sequence[str] | None = None) -> str:
        """A new bearer token (shown once; only its hash is kept) serving these shops (default: the default shop).
        Replaces a token of the same name."""
        _check_name(name)
        if role not in TOKEN_ROLES:
            raise AuthError(f"token role must be one of {', '.join(TOKEN_ROLES)}, not {role!r}")
        served = _shops(shops) or (DEFAULT_SHOP,)
        token = "kefu_" + secrets.token_urlsafe(32)
        with self.db.begin() as conn:
            conn.execute(token_shops_table.delete().where(token_shops_table.c.token_name == name))
            conn.execute(api_tokens_table.delete().where(api_tokens_table.c.name == name))
            conn.execute(api_tokens_table.insert().values(token_hash=_digest(token), name=name, role=role, created_at=now()))
            conn.execute(token_shops_table.insert(), [{"token_name": name, "shop": shop} for shop in served])
        return token

    def remove_token(self, name: str) -> bool:
        with self.db.begin() as conn:
            conn.execute(token_shops_table.delete().where(token_shops_table.c.token_name == name))
            return bool(conn.execute(api_tokens_table.delete().where(api_tokens_table.c.name == name)).rowcount)

    def tokens(self) -> list[dict[str, Any]]:
        with self.db.connect() as conn:
            rows = conn.execute(sa.select(api_tokens_table.c.name, api_tokens_table.c.role, api_tokens_table.c.created_at).order_by(api_tokens_table.c.name)).all()
            served = _served(conn, token_shops_table, token_shops_table.c.token_name)
        return [{"name": r.name, "role": r.role, "shops": served.get(r.name, []), "created_at": r.created_at.isoformat() + "Z"} for r in rows]

    def token(self, token: str) -> Principal | None:
        if not token or len(token) > 128:
            return None
        with self.db.connect() as conn:
            row = conn.execute(sa.select(api_tokens_table.c.name, api_tokens_table.c.role).where(api_tokens_table.c.token_hash == _digest(token))).first()
            if row is None:
                return None
            shops = [] if row.role == "admin" else _served(conn, token_shops_table, token_shops_table.c.token_name, row.name).get(row.name, [])
        return Principal(row.name, row.role, "token", shops=frozenset(shops))


def _shops(shops: Sequence[str] | None) -> tuple[str, ...]:
    """Shop names as given, checked and without repeats (a shop added later may be named: access is by name)."""
    return tuple(dict.fromkeys(check_name(shop) for shop in shops or ()))


def _served(conn: Connection, table: sa.Table, owner: Any, name: str | None = None) -> dict[str, list[str]]:
    """Each account's (or token's) shops, by name; only `name`'s when given."""
    query = sa.select(owner.label("owner"), table.c.shop).order_by(owner, table.c.shop)
    if name is not None:
        query = query.where(owner == name)
    served: dict[str, list[str]] = {}
    for row in conn.execute(query):
        served.setdefault(row.owner, []).append(row.shop)
    return served


def same_secret(a: str, b: str) -> bool:
    """Constant-time comparison of two secrets (CSRF tokens)."""
    return bool(a) and hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
