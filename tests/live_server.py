"""A real `bot serve` on loopback for the browser and API tests: its accounts, start and stop, and logging in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

from bot.server.client import free_port, request_json, wait_until_up

PROJECT = Path(__file__).resolve().parents[1]


# The accounts every test server has (name: (role, password)); tests log in to pages as these.
ACCOUNTS = {"admin": ("admin", "admin-pass-1"), "alice": ("editor", "alice-pass-1"), "bob": ("editor", "bob-pass-12"), "carol": ("editor", "carol-pass-1"), "dora": ("editor", "dora-pass-12"), "agent1": ("agent", "agent-pass-1"), "erin": ("agent", "erin-pass-12")}
TOKENS: dict[str, str] = {}  # base URL -> the server's admin API token, which api() sends unless told otherwise
AS_ADMIN: Any = object()


def api(
    base: str, path: str, body: Any = None, raw: bytes | None = None, method: str | None = None, token: Any = AS_ADMIN, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    """A JSON request to the server, with its admin token by default (`token=None`: anonymous)."""
    token = TOKENS.get(base) if token is AS_ADMIN else token
    return request_json(base, path, body, raw=raw, method=method, token=token, headers=headers)


BOT = str(Path(sys.executable).parent / "bot")


def provision(db: str) -> str:
    """The test accounts on this database, and an admin API token (returned)."""
    from bot.auth import AuthStore

    auth = AuthStore(db)
    for name, (role, password) in ACCOUNTS.items():
        auth.add_user(name, role, password)
    return auth.add_token("tests", "admin")


def start_server(data_dir: Path, model: Path, log_path: Path, db: str | None = None, full_pipeline: bool = True, token: str | None = None) -> tuple[subprocess.Popen, str]:  # type: ignore[type-arg]
    """`bot serve` on a free port; returns once it answers (and, with `full_pipeline`, once the Rasa model is loaded)."""
    env = {**os.environ, "BOT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1", **({"BOT_DB": db} if db else {})}
    port = free_port()
    log = open(log_path, "w")
    process = subprocess.Popen([BOT, "serve", "--port", str(port), "--model", str(model)], cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/api/health", process, 240, ready=lambda body: not full_pipeline or bool(json.loads(body).get("nlu_ready")))
    except RuntimeError:
        raise RuntimeError(f"bot serve exited: {log_path.read_text()[-2000:]}") from None
    except TimeoutError:
        process.kill()
        raise
    if token:
        TOKENS[base] = token
    return process, base


def stop_server(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def run_server(session_dir: Path, trained_model: Path) -> Iterator[dict[str, str]]:
    """`bot serve` as a subprocess against its own SQLite file, with the session's model."""
    data_dir = session_dir / "server"
    env = {**os.environ, "BOT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    subprocess.run([BOT, "kb", "import"], cwd=PROJECT, env=env, check=True, capture_output=True, timeout=120)
    db = f"sqlite:///{data_dir / 'bot.sqlite3'}"
    admin_token = provision(db)
    process, base = start_server(data_dir, trained_model, session_dir / "server.log", token=admin_token)
    yield {"base": base, "db": db, "token": admin_token}
    stop_server(process)


def login(page: Any, base: str, name: str, password: str | None = None) -> None:
    """Log a Playwright page's browser context in through the real login form (password: the test account's)."""
    page.goto(base + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password or ACCOUNTS[name][1])
    page.click("#login")
    page.wait_for_url(lambda url: "/login" not in url)  # logged in: sent on to the page (a Python predicate: the pages' CSP forbids eval)


def run_in_own_loop(coroutine: Any) -> Any:
    """asyncio.run on a thread of its own: the session's Playwright keeps an event loop in the test thread."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def logged_in(base: str, name: str, password: str | None = None) -> Any:
    """A requests session that went through the login form like a browser (password: the test account's)."""
    import re

    import requests

    session = requests.Session()
    form = session.get(base + "/login", timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    data = {"name": name, "password": password or ACCOUNTS[name][1], "csrf": csrf, "next": "/"}
    response = session.post(base + "/login", data=data, allow_redirects=False, timeout=30)
    assert response.status_code == 303, response.text
    session.headers["X-CSRF-Token"] = session.cookies["kefu_csrf"]
    return session
