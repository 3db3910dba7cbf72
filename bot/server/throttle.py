"""Login throttling: failed attempts counted per account and per client address in a sliding window (per process)."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from typing import Callable

MAX_KEYS = 100_000  # addresses and names remembered at most; the stalest are forgotten first


class FailureWindow:
    """Failures per key within `window` seconds; a key with `limit` of them waits until the oldest leaves the window."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int:
        """Seconds this key must wait before its next attempt (0: it may try now)."""
        with self._lock:
            failures = self._recent(key)
            if len(failures) < self.limit:
                return 0
            return max(1, math.ceil(failures[0] + self.window - self._clock()))

    def fail(self, key: str) -> None:
        with self._lock:
            self._recent(key).append(self._clock())
            self._failures.move_to_end(key)
            while len(self._failures) > MAX_KEYS:
                self._failures.popitem(last=False)

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: str) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        cutoff = self._clock() - self.window
        while failures and failures[0] <= cutoff:
            failures.popleft()
        return failures


class LoginThrottle:
    """Refuses a login before any password hashing when its account or its address failed too often lately."""

    def __init__(self, per_account: int, per_address: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.accounts = FailureWindow(per_account, window_s, clock)
        self.addresses = FailureWindow(per_address, window_s, clock)

    def retry_after(self, name: str, address: str) -> int:
        return max(self.accounts.retry_after(name.lower()), self.addresses.retry_after(address))

    def failed(self, name: str, address: str) -> None:
        self.accounts.fail(name.lower())
        self.addresses.fail(address)

    def succeeded(self, name: str) -> None:
        self.accounts.clear(name.lower())
