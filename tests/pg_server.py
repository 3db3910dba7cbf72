"""The tests' PostgreSQL server (bot.throwaway_pg): skipped, with the reason, where this machine cannot start one."""

from __future__ import annotations

from typing import Iterator

import pytest

from bot import throwaway_pg
from bot.throwaway_pg import fresh_database

__all__ = ["fresh_database", "postgres_server"]


def postgres_server() -> Iterator[str]:
    """Yields the admin URL of a server started for the caller (the body of a pytest fixture)."""
    try:
        with throwaway_pg.postgres_server() as url:
            yield url
    except throwaway_pg.Unavailable as exc:
        pytest.skip(str(exc))
