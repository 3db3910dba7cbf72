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
        """Seconds this key must wait before its next attempt (0: it may try now); remembers nothing new."""
        with self._lock:
            if key not in self._failures:
                return 0
            failures = self._recent(key)
            if len(failures) < self.limit:
                return 0
            return max(1, math.ceil(failures[0] + self.window - self._clock()))

    def take(self, key: str) -> int:
        """Count an attempt now, before its outcome is known (so a burst cannot pass the check together); returns
        the wait as `retry_after` did before it, and counts nothing when the key must wait."""
        with self._lock:
            failures = self._recent(key)
            if len(failures) >= self.limit:
                return max(1, math.ceil(failures[0] + self.window - self._clock()))
            failures.append(self._clock())
            self._failures.move_to_end(key)
            while len(self._failures) > MAX_KEYS:
                self._failures.popitem(last=False)
            return 0

    def undo(self, key: str) -> None:
        """Take back the latest attempt counted for this key (it succeeded)."""
        with self._lock:
            failures = self._failures.get(key)
            if failures:
                failures.pop()

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

    def attempt(self, name: str, address: str) -> int:
        """Count a password attempt for the account and the address before it is checked; the seconds to wait
        instead (nothing counted) when either has failed too often lately."""
        wait = max(self.accounts.retry_after(name), self.addresses.retry_after(address))
        if wait:
            return wait
        account_wait = self.accounts.take(name)
        address_wait = self.addresses.take(address)
        if account_wait or address_wait:  # a concurrent attempt took the last try meanwhile
            if not account_wait:
                self.accounts.undo(name)
            if not address_wait:
                self.addresses.undo(address)
            return max(account_wait, address_wait)
        return 0

    def succeeded(self, name: str, address: str) -> None:
        """The attempt was right: the account starts afresh, and the address's count drops this attempt."""
        self.accounts.clear(name)
        self.addresses.undo(address)
