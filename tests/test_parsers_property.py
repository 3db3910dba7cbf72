"""Property tests: the KB file readers (YAML, CSV) either return valid content or refuse with KBValidationError."""

from __future__ import annotations

import io
import shutil
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from bot.errors import KBValidationError
from bot.intents import load_intents
from bot.kb.csv_io import dump_csv, parse_csv
from bot.kb.files import read_kb

PROJECT = Path(__file__).resolve().parents[1]
INTENTS = load_intents(PROJECT)
SEED = read_kb(PROJECT / "kb", INTENTS)
SEED_CSV = dump_csv(SEED).encode("utf-8-sig")

SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30) | st.sampled_from(list(INTENTS))
VALUES = st.recursive(SCALARS, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=10), c, max_size=4), max_leaves=15)
ENTRY = st.fixed_dictionaries(
    {"id": st.text(max_size=20) | st.just("price.prop"), "intent": st.sampled_from(list(INTENTS)) | st.text(max_size=10)},
    optional={"questions": st.lists(st.text(max_size=30), max_size=4) | VALUES, "answer": st.text(max_size=60) | VALUES, "tags": VALUES, "status": st.sampled_from(["approved", "draft", "retired", "x"])},
)


def _assert_valid(content) -> None:  # type: ignore[no-untyped-def]
    for entry in content.entries:
        assert entry.intent in INTENTS and entry.questions and entry.answer.strip()
        assert all(q.strip() == q and q for q in entry.questions)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.lists(ENTRY, max_size=3), VALUES, st.text(max_size=200)))
def test_a_kb_yaml_file_is_read_or_refused_never_crashes(document: object) -> None:
    kb_dir = Path(tempfile.mkdtemp(prefix="kb-prop-"))
    try:
        shutil.copy(PROJECT / "kb" / "shop.yml", kb_dir / "shop.yml")
        (kb_dir / "entries").mkdir()
        if isinstance(document, str):
            text = document
        else:
            buffer = io.StringIO()
            YAML(typ="safe", pure=True).dump(document, buffer)
            text = buffer.getvalue()
        (kb_dir / "entries" / "prop.yml").write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            content = read_kb(kb_dir, INTENTS)
        except KBValidationError as exc:
            assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
            return
        _assert_valid(content)
    finally:
        shutil.rmtree(kb_dir, ignore_errors=True)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=400), st.integers(0, len(SEED_CSV) - 1).flatmap(lambda i: st.binary(max_size=8).map(lambda b: SEED_CSV[:i] + b + SEED_CSV[i + len(b):]))))
def test_a_kb_csv_upload_is_read_or_refused_never_crashes(data: bytes) -> None:
    try:
        content = parse_csv(data, INTENTS, SEED.shop)
    except KBValidationError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
        return
    _assert_valid(content)
