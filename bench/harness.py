"""Shared by the browser scripts: start a real `bot serve` on loopback and a headless Debian Chromium."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@dataclass
class Server:
    base: str
    process: subprocess.Popen  # type: ignore[type-arg]
    answering_s: float  # from start until /api/health answers (suggestions by retrieval alone)
    ready_s: float  # until the Rasa model is loaded too (the full pipeline)
    token: str  # an admin API token (Authorization: Bearer ...)
    db_url: str  # the database it serves

    def get(self, path: str, timeout: float = 60) -> Any:
        request = urllib.request.Request(self.base + path, headers={"Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def login(self, page: Any) -> None:
        """Log a Playwright page's context in as the bench's admin account, through the login form."""
        page.goto(self.base + "/login")
        page.fill("input[name=name]", BENCH_USER)
        page.fill("input[name=password]", BENCH_PASSWORD)
        page.click("#login")
        page.wait_for_url(lambda url: "/login" not in url)  # logged in: sent on to the page (a Python predicate: the pages' CSP forbids eval)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


BENCH_USER, BENCH_PASSWORD = "bench", "bench-password"


def _credentials(data_dir: Path) -> tuple[str, str]:
    """The bench's admin account and an admin API token on this data dir's database: (token, database URL)."""
    sys.path.insert(0, str(PROJECT))
    from bot.auth import AuthStore
    from bot.settings import load_settings

    db_url = load_settings(PROJECT, data_dir=data_dir).db_url
    auth = AuthStore(db_url)
    auth.add_user(BENCH_USER, "admin", BENCH_PASSWORD)
    return auth.add_token("bench", "admin"), db_url


@contextlib.contextmanager
def serve(data_dir: Path, model: Path | None = None, ready_timeout: float = 240) -> Iterator[Server]:
    """`bot serve` on a free port over this data dir; yields once the whole pipeline (Rasa model too) is loaded."""
    token, db_url = _credentials(data_dir)
    port = free_port()
    env = {**os.environ, "BOT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    command = [str(BIN / "bot"), "serve", "--port", str(port)] + (["--model", str(model)] if model else [])
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    answering = None
    try:
        while True:
            try:
                with urllib.request.urlopen(base + "/api/health", timeout=2) as response:
                    health = json.loads(response.read())
                answering = answering or time.perf_counter() - started
                if health.get("nlu_ready"):
                    break
            except OSError:
                pass
            if process.poll() is not None or time.perf_counter() - started > ready_timeout:
                raise RuntimeError("bot serve did not start")
            time.sleep(0.05)
        sys.path.insert(0, str(PROJECT / "tests"))
        from live_server import TOKENS  # the tests' JSON client, which the bench scripts use too

        TOKENS[base] = token
        yield Server(base, process, round(answering, 2), round(time.perf_counter() - started, 2), token, db_url)
    finally:
        process.terminate()
        process.wait(timeout=60)


@contextlib.contextmanager
def running_server(model: Path | None = None, kb: Path | None = None, ready_timeout: float = 240) -> Iterator[Server]:
    """A fresh data dir with the seed KB (or `kb`: a directory or CSV), `bot serve` on a free port."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "BOT_DATA_DIR": tmp, "HF_HUB_OFFLINE": "1"}
        subprocess.run([str(BIN / "bot"), "kb", "import"] + ([str(kb)] if kb else []), cwd=PROJECT, env=env, check=True, capture_output=True)
        with serve(Path(tmp), model, ready_timeout) as server:
            yield server


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
