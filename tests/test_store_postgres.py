"""The KB store on a real PostgreSQL server that the test starts itself (skipped, with the reason, where none is installed)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from bot.kb.store import KBStore
from bot.kb.sync import export_kb, import_kb

PROJECT = Path(__file__).resolve().parents[1]


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries not installed (Debian package 'postgresql')")
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        if shutil.which("runuser") is None or subprocess.run(["id", "postgres"], capture_output=True).returncode:
            pytest.skip("running as root without a 'postgres' user to run the server as")
        as_user = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="bot-pg-"))  # not under pytest's 0700 root-only temp dir
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if as_user:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
    port = _free_port()
    subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"], check=True, capture_output=True)
    subprocess.run(
        [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l", str(base / "log"),
         "-o", f"-p {port} -k {sock} -c listen_addresses=127.0.0.1", "start"],
        check=True, capture_output=True, timeout=60,
    )
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def test_kb_round_trip_through_postgresql(postgres_url: str, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = KBStore(postgres_url)
    import_kb(settings, store=store)
    export_kb(settings, tmp_path / "out", store=store)
    files = lambda d: {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*.yml"))}  # noqa: E731
    assert files(tmp_path / "out") == files(PROJECT / "kb")
    sqlite = KBStore(settings.db_url)
    import_kb(settings, store=sqlite)
    assert store.load() == sqlite.load()
    store.close()
