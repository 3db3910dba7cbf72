"""Shared by the browser scripts: start a real `bot serve` on loopback and a headless Debian Chromium."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@contextlib.contextmanager
def running_server(model: Path | None = None, kb: Path | None = None, ready_timeout: float = 240) -> Iterator[str]:
    """A fresh data dir with the seed KB (or `kb`: a directory or CSV), `bot serve` on a free port; yields its base URL."""
    with tempfile.TemporaryDirectory() as tmp, socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        env = {**os.environ, "BOT_DATA_DIR": tmp, "HF_HUB_OFFLINE": "1"}
        subprocess.run([str(BIN / "bot"), "kb", "import"] + ([str(kb)] if kb else []), cwd=PROJECT, env=env, check=True, capture_output=True)
        command = [str(BIN / "bot"), "serve", "--port", str(port)] + (["--model", str(model)] if model else [])
        process = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + ready_timeout
            while True:
                try:
                    urllib.request.urlopen(base + "/api/health", timeout=2)
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("bot serve did not start")
                    time.sleep(0.5)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=30)


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
