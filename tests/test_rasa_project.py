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


def _examples() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in sorted((PROJECT / "data" / "nlu").glob("*.yml")):
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
    examples = _examples()
    assert set(examples) == set(load_intents(PROJECT))
    for intent, texts in examples.items():
        assert len(texts) >= (40 if intent in CORE_INTENTS else 20), intent
    seen: dict[str, str] = {}
    for intent, texts in examples.items():
        for text in texts:
            key = PARTICLES.sub("", text)
            if not key:
                continue
            assert key not in seen, f"'{text}' ({intent}) differs only by particles from '{seen[key]}'"
            seen[key] = text


@pytest.mark.parametrize("name", ["test_paraphrases_dev", "test_paraphrases_test"])
def test_held_out_paraphrases_are_not_training_data(name: str) -> None:
    """Evaluation texts may not be copies (up to particles) of NLU examples or KB questions."""
    file = PROJECT / "tests" / "data" / f"{name.removeprefix('test_')}.yml"
    items = YAML(typ="safe", pure=True).load(file.read_text(encoding="utf-8"))
    training = {PARTICLES.sub("", t) for texts in _examples().values() for t in texts}
    for path in (PROJECT / "kb" / "entries").glob("*.yml"):
        for entry in YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8")):
            training |= {PARTICLES.sub("", q) for q in entry["questions"]}
    leaked = [i["text"] for i in items if PARTICLES.sub("", i["text"]) in training]
    assert not leaked, leaked
