"""Guard the dev set: list every text the product ships (KB, NLU, stories, test data) that is a near-copy of a real_dev line.

    .venv/bin/python bench/real_dev_leaks.py                 # exit 1 if any shipped text is that close
    .venv/bin/python bench/real_dev_leaks.py --min-ratio 70  # also look at looser resemblances

real_dev's lines must never reach data/, kb/ or tests/ (research-licence chats, and a tuning set stops measuring
once it is trained on). Texts written here in the same style are fine; this catches a copied or lightly edited
line. Both sides are compared after the engine's own normalisation (bot/normalize.py), by rapidfuzz's ratio
(0-100). Short texts (under 5 characters: 好的, 在吗, 是正品吗) are skipped: they are everyone's words, not a copy.
The dev lines are printed only as their file and line number, never as text.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from rapidfuzz import fuzz, process
from ruamel.yaml import YAML

import real_dev

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
from bot.normalize import normalize

SHIPPED = ("kb/entries/*.yml", "data/nlu/*.yml", "data/stories/*.yml", "data/rules/*.yml", "tests/data/*.yml", "tests/data/*.jsonl")
MIN_CHARS = 5


def shipped_texts() -> list[tuple[str, str]]:
    """(file, text) for every string in the shipped YAML/JSONL files, NLU example blocks split into examples."""
    yaml = YAML(typ="safe", pure=True)
    found: list[tuple[str, str]] = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value, where)
        elif isinstance(node, list):
            for value in node:
                walk(value, where)
        elif isinstance(node, str):
            for line in node.splitlines():
                text = re.sub(r"^\s*-\s*", "", line).strip()
                if text:
                    found.append((where, text))

    for pattern in SHIPPED:
        for path in sorted(PROJECT.glob(pattern)):
            where = str(path.relative_to(PROJECT))
            if path.suffix == ".jsonl":
                for line in path.read_text(encoding="utf-8").splitlines():
                    if line.strip():
                        walk(json.loads(line), where)
            else:
                walk(yaml.load(path.read_text(encoding="utf-8")), where)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-ratio", type=float, default=90.0, help="report pairs at least this similar (0-100)")
    args = parser.parse_args()
    dev = [line for part in real_dev.load(real_dev.DEFAULT_DIR.resolve()).values() for line in part]
    dev_texts = [normalize(line.text) for line in dev]
    close = 0
    checked = 0
    for where, text in shipped_texts():
        folded = normalize(text)
        if len(folded) < MIN_CHARS:
            continue
        checked += 1
        match = process.extractOne(folded, dev_texts, scorer=fuzz.ratio, score_cutoff=args.min_ratio)
        if match is not None:
            close += 1
            line = dev[match[2]]
            print(f"{where}: {text!r} ~ {line.file}:{line.number} ({match[1]:.0f})")
    print(f"{checked} shipped texts against {len(dev)} dev lines: {close} at ratio >= {args.min_ratio:.0f}")
    return 1 if close else 0


if __name__ == "__main__":
    sys.exit(main())
