"""The benchmarks' synthetic KB: realistic entries from the seed KB's patterns, unique, up to a million."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "bench"))

from bot.intents import load_intents  # noqa: E402
from bot.kb.files import read_kb  # noqa: E402

from synthetic_kb import synthetic_kb  # noqa: E402


@pytest.fixture(scope="module")
def seed():  # type: ignore[no-untyped-def]
    return read_kb(PROJECT / "kb", load_intents(PROJECT))


def test_entries_are_unique_and_keep_the_seed_patterns(seed) -> None:  # type: ignore[no-untyped-def]
    content = synthetic_kb(seed, 30_000)
    assert len(content.entries) == 30_000
    assert len({e.id for e in content.entries}) == 30_000
    questions = [q for e in content.entries for q in e.questions]
    assert len(questions) == len(set(questions))
    by_id = {e.id: e for e in seed.approved()}
    synthetic = [e for e in content.entries if ".syn" in e.id]
    assert {e.intent for e in synthetic} == {e.intent for e in seed.approved()}
    sample = synthetic[12_345]
    assert sample.answer.startswith("【") and sample.status == "approved"
    assert set(by_id) <= {e.id for e in content.entries}  # the seed KB is part of every size above it


def test_the_same_size_gives_the_same_kb_and_too_large_is_refused(seed) -> None:  # type: ignore[no-untyped-def]
    assert synthetic_kb(seed, 2_000) == synthetic_kb(seed, 2_000)
    with pytest.raises(ValueError, match="at most"):
        synthetic_kb(seed, 10**8)
