"""Shared by the browser scripts: start a real `bot serve` on loopback and a headless Debian Chromium."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from bot.server.client import free_port, request_json, wait_until_up

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
        """GET with the bench's admin token; the answer, or RuntimeError on any status but 200."""
        status, body = self.api(path, timeout=timeout)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {body}")
        return body

    def api(self, path: str, body: Any = None, **options: Any) -> tuple[int, Any]:
        """A JSON request with the bench's admin token: (status, answer), errors included."""
        return request_json(self.base, path, body, token=self.token, **options)

    def login(self, page: Any) -> None:
        """Log a Playwright page's context in as the bench's admin account, through the login form."""
        page.goto(self.base + "/login")
        page.fill("input[name=name]", BENCH_USER)
        page.fill("input[name=password]", BENCH_PASSWORD)
        page.click("#login")
        page.wait_for_url(lambda url: "/login" not in url)  # logged in: sent on to the page (a Python predicate: the pages' CSP forbids eval)


BENCH_USER, BENCH_PASSWORD = "bench", "bench-password"


def _credentials(data_dir: Path) -> tuple[str, str]:
    """The bench's admin account and an admin API token on this data dir's database: (token, database URL)."""
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
    answering: list[float] = []  # when /api/health first answered

    def nlu_ready(body: bytes) -> bool:
        answering.append(time.perf_counter() - started)
        return bool(json.loads(body).get("nlu_ready"))

    try:
        try:
            wait_until_up(base + "/api/health", process, ready_timeout, ready=nlu_ready)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"bot serve did not start: {exc}") from None
        yield Server(base, process, round(answering[0], 2), round(time.perf_counter() - started, 2), token, db_url)
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
