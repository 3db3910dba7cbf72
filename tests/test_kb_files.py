"""kb/ YAML: validation names the file and entry, import is all-or-nothing, export round-trips byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.dialogue import CONTEXTUAL_INTENTS
from bot.errors import KBValidationError
from bot.intents import CORE_INTENTS, load_intents
from bot.kb.files import read_kb, write_kb
from bot.kb.store import KBStore
from bot.kb.sync import export_kb, import_kb
from bot.rules import check_reply

PROJECT = Path(__file__).resolve().parents[1]


def _files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*.yml"))}


@pytest.fixture(scope="module")
def seed():  # type: ignore[no-untyped-def]
    return read_kb(PROJECT / "kb", load_intents(PROJECT))


def test_seed_kb_size_and_coverage(seed) -> None:  # type: ignore[no-untyped-def]
    approved = seed.approved()
    assert len(approved) >= 60
    intents = load_intents(PROJECT)
    covered = {e.intent for e in approved}
    answerable = set(intents) - CONTEXTUAL_INTENTS  # "好的" / "这个呢" take their reply from the conversation
    assert covered == answerable, f"intents without an approved entry: {answerable - covered}"
    for intent in CORE_INTENTS:
        assert sum(e.intent == intent for e in approved) >= 5, intent
    assert any("clarify" in e.tags for e in approved), "the abstention needs a clarifying script"


def test_seed_answers_follow_the_service_rules(seed) -> None:  # type: ignore[no-untyped-def]
    for entry in seed.approved():
        warnings = check_reply(entry.answer)
        assert not warnings, f"{entry.id}: {[w.message for w in warnings]}"


def test_seed_kb_is_in_canonical_form(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Importing kb/ and exporting it gives back kb/ itself: editors' diffs stay clean."""
    import_kb(settings)
    export_kb(settings, tmp_path / "out")
    assert _files(tmp_path / "out") == _files(PROJECT / "kb")


def test_export_import_export_is_identical(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import_kb(settings)
    export_kb(settings, tmp_path / "first")
    fresh = KBStore(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    import_kb(settings, tmp_path / "first", store=fresh)
    export_kb(settings, tmp_path / "second", store=fresh)
    assert _files(tmp_path / "first") == _files(tmp_path / "second")
    assert fresh.load() == KBStore(settings.db_url).load()


def _break(kb_copy: Path, file: str, old: str, new: str) -> None:
    path = kb_copy / "entries" / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _refused(settings, kb_copy: Path) -> list[str]:  # type: ignore[no-untyped-def]
    """Import the broken copy over a good KB; assert the database kept its content; return the problems."""
    import_kb(settings)
    before = KBStore(settings.db_url).load()
    with pytest.raises(KBValidationError) as info:
        import_kb(settings, kb_copy)
    assert KBStore(settings.db_url).load() == before
    return info.value.problems


def test_missing_field_is_refused_with_file_and_entry(settings, kb_copy: Path) -> None:  # type: ignore[no-untyped-def]
    _break(kb_copy, "shipping_fee.yml", "  status: approved\n", "")
    problems = _refused(settings, kb_copy)
    assert len(problems) == 1
    assert "shipping_fee.yml:" in problems[0]
    assert "entry 1 (id shipping_fee.buy_two_free)" in problems[0]
    assert "missing field 'status'" in problems[0]


def test_duplicate_id_is_refused_naming_both_places(settings, kb_copy: Path) -> None:  # type: ignore[no-untyped-def]
    _break(kb_copy, "price.yml", "- id: price.coupons\n", "- id: shipping_fee.free_threshold\n")
    problems = _refused(settings, kb_copy)
    assert any("duplicate id 'shipping_fee.free_threshold'" in p and "price.yml" in p and "shipping_fee.yml" in p for p in problems), problems


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("{free_shipping_threshold}", "{free_shipping_limit}", "not in shop.yml: free_shipping_limit"),
        ("intent: shipping_fee\n", "intent: shipping\n", "unknown intent 'shipping'"),
        ("status: approved\n", "status: live\n", "status 'live'"),
        ("  - 包邮吗\n", "  - ''\n", "questions #1 must be non-empty text"),
        ("- id: shipping_fee.buy_two_free\n", "- id: Shipping Fee!\n", "id 'Shipping Fee!'"),
        ("  answer: 亲,全场满", "  answer: 亲,全场满{", "stray"),
    ],
    ids=["unknown-variable", "unknown-intent", "bad-status", "empty-question", "bad-id", "stray-brace"],
)
def test_invalid_entries_are_refused(settings, kb_copy: Path, old: str, new: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    _break(kb_copy, "shipping_fee.yml", old, new)
    problems = _refused(settings, kb_copy)
    assert any(expected in p for p in problems), problems


def test_malformed_yaml_names_the_line(settings, kb_copy: Path) -> None:  # type: ignore[no-untyped-def]
    (kb_copy / "entries" / "greet.yml").write_text("- id: greet.x\n  intent: [greet\n", encoding="utf-8")
    problems = _refused(settings, kb_copy)
    assert any("greet.yml:" in p and "not valid YAML" in p for p in problems), problems


def test_yaml_aliases_are_refused(settings, kb_copy: Path) -> None:  # type: ignore[no-untyped-def]
    path = kb_copy / "entries" / "greet.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("  tags:\n", "  tags: &t\n", 1) + "- {id: greet.y, tags: *t}\n", encoding="utf-8")
    problems = _refused(settings, kb_copy)
    assert any("anchors/aliases" in p for p in problems), problems


def test_missing_shop_profile_is_refused(settings, kb_copy: Path) -> None:  # type: ignore[no-untyped-def]
    (kb_copy / "shop.yml").unlink()
    problems = _refused(settings, kb_copy)
    assert any("shop.yml: missing" in p for p in problems), problems


def test_export_removes_stale_intent_files(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import_kb(settings)
    out = tmp_path / "out"
    (out / "entries").mkdir(parents=True)
    (out / "entries" / "old_topic.yml").write_text("[]\n", encoding="utf-8")
    export_kb(settings, out)
    assert not (out / "entries" / "old_topic.yml").exists()
    content = read_kb(out, load_intents(PROJECT))
    assert len(content.entries) == KBStore(settings.db_url).count()


def test_write_kb_keeps_multiline_answers(tmp_path: Path, seed) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from bot.kb import KBContent

    entry = replace(seed.entries[0], answer="第一行\n第二行: 带冒号 # 和井号")
    write_kb(KBContent(shop=seed.shop, entries=(entry,)), tmp_path)
    again = read_kb(tmp_path, load_intents(PROJECT))
    assert again.entries == (entry,)


def test_csv_cells_a_spreadsheet_would_run_are_written_as_text_and_read_back_as_they_were(seed) -> None:  # type: ignore[no-untyped-def]
    import csv
    import io
    from dataclasses import replace

    from bot.kb import KBContent
    from bot.kb.csv_io import dump_csv, parse_csv

    hostile = ["=HYPERLINK(\"http://x.example\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)", "'=already quoted", "'plain quote"]
    entry = replace(seed.entries[0], questions=(*hostile, "包邮吗"), answer="=cmd|' /C calc'!A0")
    text = dump_csv(KBContent(shop=seed.shop, entries=(entry,)))
    cells = next(row for row in csv.reader(io.StringIO(text)) if row and row[0] == entry.id)
    assert cells[4].startswith("'=HYPERLINK") and cells[5].startswith("'=cmd")
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@")), cell
    again = parse_csv(text.encode("utf-8"), load_intents(PROJECT), seed.shop)
    assert again.entries[0].questions == entry.questions and again.entries[0].answer == entry.answer
