"""The Rasa side is a standard project: Rasa's own validator accepts it, and the NLU data meets its brief."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from bot.intents import CORE_INTENTS, load_intents

PROJECT = Path(__file__).resolve().parents[1]
PARTICLES = re.compile(r"[亲呀哈嘛哦啊吗呢吧啦么~～?？!！,，。.\s]")


def _examples(include_generated: bool = True) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in sorted((PROJECT / "data" / "nlu").glob("*.yml")):
        if not include_generated and path.name == "kb_questions.yml":
            continue
        data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
        for block in data["nlu"]:
            lines = [line[2:].strip() for line in block["examples"].splitlines() if line.startswith("- ")]
            out.setdefault(block["intent"], []).extend(lines)
    return out


def test_rasa_data_validate() -> None:
    rasa = str(Path(sys.executable).parent / "rasa")
    out = subprocess.run([rasa, "data", "validate", "--fail-on-warnings"], cwd=PROJECT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]


def test_nlu_data_meets_the_brief() -> None:
    hand_written = _examples(include_generated=False)
    assert set(hand_written) == set(load_intents(PROJECT))
    for intent, texts in hand_written.items():
        assert len(texts) >= (40 if intent in CORE_INTENTS else 20), intent
    examples = _examples()
    seen: dict[str, str] = {}
    for intent, texts in examples.items():
        for text in texts:
            key = PARTICLES.sub("", text)
            if not key:
                continue
            assert key not in seen, f"'{text}' ({intent}) differs only by particles from '{seen[key]}'"
            seen[key] = text


@pytest.mark.parametrize("name", ["paraphrases_dev.yml", "paraphrases_test.yml", "chat_log.jsonl", "buyer_style.yml"])
def test_held_out_paraphrases_are_not_training_data(name: str) -> None:
    """Evaluation texts may not be copies (up to particles) of NLU examples or KB questions; bare acknowledgements and
    fragments of four characters or fewer ("好的", "这件呢") cannot be new, and are exempt."""
    file = PROJECT / "tests" / "data" / name
    if file.suffix == ".jsonl":
        import json

        items = [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        items = YAML(typ="safe", pure=True).load(file.read_text(encoding="utf-8"))
    training = {PARTICLES.sub("", t) for texts in _examples().values() for t in texts}
    for path in (PROJECT / "kb" / "entries").glob("*.yml"):
        for entry in YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8")):
            training |= {PARTICLES.sub("", q) for q in entry["questions"]}
    leaked = [i["text"] for i in items if len(PARTICLES.sub("", i["text"])) > 4 and PARTICLES.sub("", i["text"]) in training]
    assert not leaked, leaked


def test_generated_kb_questions_are_in_sync_with_kb() -> None:
    """data/nlu/kb_questions.yml is what `bot kb nlu` makes of kb/ (run `bot train` or `bot kb nlu` after editing kb/)."""
    from bot.kb.files import read_kb
    from bot.kb.nlu_export import GENERATED_FILE, hand_written_examples, kb_nlu_yaml

    nlu_dir = PROJECT / "data" / "nlu"
    expected = kb_nlu_yaml(read_kb(PROJECT / "kb", load_intents(PROJECT)), hand_written_examples(nlu_dir))
    assert (nlu_dir / GENERATED_FILE).read_text(encoding="utf-8") == expected


def test_rasa_cache_of_trained_components_keys_on_the_normalisation_and_the_shop_dictionary(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`rasa train` reuses a component whose fingerprint is unchanged: a new normalisation or shop word must change it."""
    from rasa.engine.training.fingerprinting import calculate_fingerprint_key

    import bot.rasa_tokenizer
    from bot.rasa_tokenizer import NormalizingJiebaTokenizer

    (tmp_path / "shop_words.txt").write_text("假一赔十 10 n\n", encoding="utf-8")
    config = {**NormalizingJiebaTokenizer.get_default_config(), "dictionary_path": str(tmp_path)}
    inputs = {"training_data": "the same examples"}
    before = calculate_fingerprint_key(NormalizingJiebaTokenizer, config, inputs)
    assert calculate_fingerprint_key(NormalizingJiebaTokenizer, config, inputs) == before
    (tmp_path / "shop_words.txt").write_text("假一赔十 10 n\n包邮券 10 n\n", encoding="utf-8")
    with_word = calculate_fingerprint_key(NormalizingJiebaTokenizer, config, inputs)
    assert with_word != before, "a new shop word must retrain the tokenizer's consumers"
    monkeypatch.setattr(bot.rasa_tokenizer, "NORMALIZE_VERSION", "next")
    assert calculate_fingerprint_key(NormalizingJiebaTokenizer, config, inputs) != with_word, "a new normalisation too"
