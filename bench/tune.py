"""Tune the retrieval and ranking weights of bot.yml on the DEV paraphrases only (never the test set).

    .venv/bin/python bench/tune.py [--model models/x.tar.gz]

Runs the real engine over a grid of settings (Rasa parses and embeddings are cached, so only the
scoring is repeated), picks min_score for each point, and prints the best settings with their dev
figures. Copy the chosen values into bot.yml by hand: tuning is a decision, not a side effect.
Random Latin/CJK strings (own seed) are added as messages that must abstain or be out_of_scope.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import string
import sys
import tempfile
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

GRID = {
    "dense_weight": [0.8, 0.85, 0.9, 0.95],
    "answer_weight": [0.7, 0.85],
    "intent_weight": [0.1, 0.2, 0.3, 0.4],
    "retrieval_intent_weight": [0.0, 0.5, 0.7, 0.8, 0.9],
    "retrieval_intent_temperature": [0.02, 0.03, 0.05],
}


def noise(count: int, seed: int = 2024) -> list:  # type: ignore[type-arg]
    from bot.logs import LogItem

    rng = random.Random(seed)
    out = []
    for i in range(count):
        if i % 2:
            text = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(rng.randint(5, 18)))
        else:
            text = "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(rng.randint(4, 10)))
        out.append(LogItem(text, "out_of_scope", ()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=PROJECT / "tests/data/paraphrases_dev.yml")
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    if "test" in args.data.name:
        sys.exit("refusing to tune on a test set")

    from ruamel.yaml import YAML
    from tqdm import tqdm

    from bot import evaluate
    from bot.kb.sync import import_kb
    from bot.settings import load_settings
    from bot.suggest import Engine

    items = evaluate.labelled(YAML(typ="safe", pure=True).load(args.data.read_text(encoding="utf-8"))) + noise(20)
    tmp = tempfile.mkdtemp()
    settings = load_settings(PROJECT, data_dir=Path(tmp))
    import_kb(settings)
    engine = Engine.from_settings(settings, model_path=args.model)
    engine.classifier.parse = lru_cache(maxsize=None)(engine.classifier.parse)  # type: ignore[method-assign]
    assert engine.index is not None

    results = []
    combos = list(itertools.product(*GRID.values()))
    for values in tqdm(combos, desc="grid", unit="point"):
        point = dict(zip(GRID, values))
        index_settings = replace(settings.index, dense_weight=point["dense_weight"], lexical_weight=1 - point["dense_weight"], answer_weight=point["answer_weight"])
        suggest_settings = replace(
            settings.suggest,
            intent_weight=point["intent_weight"],
            retrieval_intent_weight=point["retrieval_intent_weight"],
            retrieval_intent_temperature=point["retrieval_intent_temperature"],
            min_score=-1.0,
        )
        engine.settings = replace(settings, index=index_settings, suggest=suggest_settings)
        engine.index.settings = index_settings
        runs = []
        for item in items:
            result = engine.suggest(item.text)
            runs.append((item, result.intent.name, [r.id for r in result.suggestions], result.suggestions[0].score))
        for min_score in np.arange(0.40, 0.80, 0.01):
            hit1 = hit3 = intent_ok = abstain_ok = n_rep = n_none = 0
            for item, intent, ids, top in runs:
                abstained = top < min_score
                if item.reply_ids:
                    n_rep += 1
                    intent_ok += intent == item.intent
                    if not abstained:
                        hit1 += ids[0] in item.reply_ids
                        hit3 += any(i in item.reply_ids for i in ids)
                else:
                    n_none += 1
                    abstain_ok += abstained or intent == "out_of_scope"
            objective = (hit3 + 0.5 * hit1 + 0.5 * intent_ok) / n_rep + abstain_ok / n_none
            results.append((objective, point, round(float(min_score), 2), intent_ok / n_rep, hit1 / n_rep, hit3 / n_rep, f"{abstain_ok}/{n_none}"))
    results.sort(key=lambda r: -r[0])
    print("objective  intent_acc  hit@1  hit@3  noise-ok  min_score  point")
    for objective, point, min_score, acc, h1, h3, ok in results[:20]:
        print(f"{objective:.3f}      {acc:.3f}      {h1:.3f}  {h3:.3f}  {ok:8}  {min_score:.2f}       {point}")


if __name__ == "__main__":
    main()
