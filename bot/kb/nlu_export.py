"""The KB's approved question variants written as Rasa NLU examples, so `rasa train` learns every phrasing."""

from __future__ import annotations

import re
from pathlib import Path

from bot.errors import BotError
from bot.kb import KBContent

GENERATED_FILE = "kb_questions.yml"
HEADER = (
    "# Generated from kb/ by `bot kb nlu` (and by `bot train`): the approved question variants of the\n"
    "# knowledge base as NLU examples, so the intent classifier learns every phrasing the KB knows.\n"
    "# Do not edit by hand: edit kb/ and regenerate.\n"
)
# Two examples that differ only by these are the same example.
_PARTICLES = re.compile(r"[亲呀哈嘛哦啊吗呢吧啦么~～?？!！,，。.\s]")


def _key(text: str) -> str:
    return _PARTICLES.sub("", text)


def hand_written_examples(nlu_dir: Path) -> set[str]:
    """Particle-free keys of the examples in data/nlu/ other than the generated file."""
    from ruamel.yaml import YAML

    keys: set[str] = set()
    for path in sorted(nlu_dir.glob("*.yml")):
        if path.name == GENERATED_FILE:
            continue
        data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or ():
            for line in str(block.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    keys.add(_key(line.strip()[2:]))
    return keys


def kb_nlu_yaml(content: KBContent, skip: set[str]) -> str:
    """Rasa NLU YAML (version 3.1) with one block per intent, questions in KB order, duplicates dropped."""
    by_intent: dict[str, list[str]] = {}
    seen = set(skip)
    for entry in content.approved():
        for question in entry.questions:
            key = _key(question)
            if key and key not in seen and not question.lstrip().startswith(("-", "#", "[", "{")):
                seen.add(key)
                by_intent.setdefault(entry.intent, []).append(question)
    lines = [HEADER + 'version: "3.1"', "nlu:"]
    for intent in sorted(by_intent):
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {q}" for q in by_intent[intent]]
    return "\n".join(lines) + "\n"


def not_the_default_shop(shop: str) -> str:
    """Why a shop other than the default one cannot write the generated file (the CLI's and the editor API's error)."""
    return f"data/nlu/{GENERATED_FILE} holds the default shop's questions (one intent model serves every shop); shop '{shop}' cannot write it"


class NothingApproved(BotError):
    """A KB with no approved entry: writing would leave the intent model none of the KB's phrasings."""


def write_kb_nlu(content: KBContent, nlu_dir: Path) -> Path:
    """Write the approved questions to nlu_dir/kb_questions.yml (untouched when unchanged); refuse a KB with none."""
    path = nlu_dir / GENERATED_FILE
    if not content.approved():
        raise NothingApproved(f"the KB has no approved entries: nothing written, {GENERATED_FILE} kept as it is")
    text = kb_nlu_yaml(content, hand_written_examples(nlu_dir))
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path
