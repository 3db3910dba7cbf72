"""A throwaway PostgreSQL server for tests and bench scripts: Debian's `postgresql` binaries on a free loopback port."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa

from bot.errors import BotError
from bot.server.client import free_port


class Unavailable(BotError):
    """This machine cannot start one; the message says why (tests skip with it, bench scripts stop with it)."""


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """initdb + pg_ctl start (as the postgres user when run as root); yields the admin URL, stops and removes it after."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        raise Unavailable("PostgreSQL server binaries not installed (Debian package 'postgresql')")
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        if shutil.which("runuser") is None or subprocess.run(["id", "postgres"], capture_output=True).returncode:
            raise Unavailable("running as root without a 'postgres' user to run the server as")
        as_user = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="bot-pg-"))  # not under pytest's 0700 root-only temp dir
    data, sock = base / "data", base / "sock"
    try:
        sock.mkdir()
        if as_user:
            shutil.chown(base, "postgres")
            shutil.chown(sock, "postgres")
        port = free_port()
        _run("initdb", [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"], base)
        _run("pg_ctl start", [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l", str(base / "log"),
              "-o", f"-p {port} -k {sock} -c listen_addresses=127.0.0.1", "start"], base)
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
    finally:
        try:
            if (data / "postmaster.pid").exists():
                subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True, timeout=60)
        finally:
            shutil.rmtree(base, ignore_errors=True)


def _run(step: str, command: list[str], base: Path) -> None:
    """One setup step; a failure raises BotError with what the tool (or the server's log) said."""
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=60)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        said = (exc.stderr or b"").decode(errors="replace").strip()
        log = base / "log"
        if log.is_file():
            said += "\n" + log.read_text(errors="replace").strip()
        raise BotError(f"PostgreSQL did not start ({step}): {said.strip()[-500:] or exc}")


def fresh_database(admin_url: str, name: str) -> str:
    """An empty database of this name on that server (dropped first if there); its URL."""
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", future=True)
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name
