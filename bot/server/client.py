"""A small client for a `bot serve` on this machine: a free loopback port, waiting until it answers, JSON requests.

The tests and the benchmarks start real servers and talk to them through these three functions; only the
standard library is used, so importing this loads nothing of the engine.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from typing import Any, Callable


def free_port() -> int:
    """A loopback port nothing listens on now (for `bot serve`, Rasa, the action server or PostgreSQL)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen, timeout: float, ready: Callable[[bytes], bool] = lambda body: True) -> None:  # type: ignore[type-arg]
    """Return once `url` answers (and `ready` accepts what it sent); RuntimeError at once if the process exits,
    TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:2]} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if ready(response.read()):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} not up after {timeout:.0f} s")


def request_json(
    base: str, path: str, body: Any = None, *, raw: bytes | None = None, method: str | None = None, token: str | None = None,
    headers: dict[str, str] | None = None, timeout: float = 60,
) -> tuple[int, Any]:
    """One request to the server's JSON API (`body` sent as JSON, or `raw` bytes as they are; POST when either is
    given), with `token` as its bearer token; returns the status and the decoded answer, errors included."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    all_headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
    request = urllib.request.Request(base + path, data=data, headers=all_headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
