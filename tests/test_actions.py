"""The rasa-sdk action's engine holder (actions/actions.py), without a Rasa server: KB catch-up does not queue requests."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest


def test_one_request_catches_up_while_the_others_answer_at_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BOT_PROJECT_DIR", str(tmp_path))  # the module's own engine fails to load at once: not used here
    import actions.actions
    from actions.actions import _EngineHolder

    monkeypatch.setattr(actions.actions, "SYNC_EVERY_S", 60.0)  # one catch-up in the test's time, however slow the machine

    class SlowKB:
        calls = 0

        def catch_up(self) -> bool:
            SlowKB.calls += 1
            time.sleep(1.0)  # a whole-KB import being applied
            return True

    holder = _EngineHolder.__new__(_EngineHolder)
    holder._engine, holder._error, holder._last_sync = SlowKB(), None, 0.0
    holder._ready = threading.Event()
    holder._ready.set()
    first = threading.Thread(target=holder.get)
    first.start()
    while SlowKB.calls == 0:
        time.sleep(0.001)
    holder.get()  # while the first request is still catching up
    first.join()
    assert SlowKB.calls == 1, "the second request caught up too (it queued behind the first on the engine's lock)"
