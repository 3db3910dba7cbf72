"""Tune the retrieval and ranking weights of bot.yml on the DEV paraphrases only (never the test set).

    .venv/bin/python bench/tune.py [--model models/x.tar.gz]

Grid-searches dense/lexical weight, answer weight and intent weight, then picks min_score; prints the
best settings with their dev figures. Copy them into bot.yml by hand (tuning is a decision, not a side effect).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=PROJECT / "tests/data/paraphrases_dev.yml")
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    if "test" in args.data.name:
        sys.exit("refusing to tune on a test set")

    from ruamel.yaml import YAML

    from bot import evaluate
    from bot.index import QUESTION
    from bot.kb.sync import import_kb
    from bot.settings import load_settings
    from bot.suggest import Engine

    items = evaluate.labelled(YAML(typ="safe", pure=True).load(args.data.read_text(encoding="utf-8")))
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(PROJECT, data_dir=Path(tmp))
        import_kb(settings)
        engine = Engine.from_settings(settings, model_path=args.model)
        index = engine.index
        assert index is not None
        vectors = index._dense.reconstruct_n(0, len(index.rows))
        row_entry = np.array([r.entry for r in index.rows])
        is_question = np.array([r.kind == QUESTION for r in index.rows])
        entry_ids = [e.id for e in index.entries]
        entry_intents = [e.intent for e in index.entries]
        clarify = np.array(["clarify" in e.tags for e in index.entries])
        cases = []
        for item in items:
            parse = engine.classifier.parse(item.text)
            dense = vectors @ engine.encoder.embed(item.text)
            lexical = index._lexical.scores(item.text)
            p_intent = np.array([parse.confidence_of(i) for i in entry_intents])
            cases.append((item, dense, lexical, p_intent, parse.intent.name))

    n_entries = len(entry_ids)
    results = []
    for dense_w, answer_w, intent_w in itertools.product([0.6, 0.7, 0.75, 0.8, 0.9, 1.0], [0.6, 0.7, 0.8, 0.9, 1.0], [0.1, 0.2, 0.3, 0.4, 0.5]):
        row_weight = np.where(is_question, 1.0, answer_w)
        tops = []
        for item, dense, lexical, p_intent, predicted in cases:
            fused_rows = (dense_w * dense + (1 - dense_w) * lexical) * row_weight
            best = np.full(n_entries, -np.inf)
            np.maximum.at(best, row_entry, fused_rows)
            final = (1 - intent_w) * best + intent_w * p_intent
            final[clarify] = -np.inf
            order = np.argsort(-final)[:3]
            tops.append(([entry_ids[i] for i in order], float(final[order[0]]), item, predicted))
        for min_score in np.arange(0.40, 0.80, 0.01):
            hit1 = hit3 = abstain_ok = n_rep = n_none = 0
            for ids, top, item, predicted in tops:
                abstained = top < min_score
                if item.replies:
                    n_rep += 1
                    if not abstained:
                        hit1 += ids[0] in item.replies
                        hit3 += any(i in item.replies for i in ids)
                else:
                    n_none += 1
                    abstain_ok += abstained or predicted == "out_of_scope"
            score = hit3 / n_rep + 0.5 * hit1 / n_rep + (abstain_ok / n_none if n_none else 0)
            results.append((score, dense_w, answer_w, intent_w, round(float(min_score), 2), hit1 / n_rep, hit3 / n_rep, abstain_ok, n_none))
    results.sort(key=lambda r: (-r[0], r[4]))
    print("objective  dense_w answer_w intent_w min_score  hit@1  hit@3  abstained-ok/no-reply")
    for r in results[:15]:
        print(f"{r[0]:.3f}      {r[1]:.2f}    {r[2]:.2f}     {r[3]:.2f}     {r[4]:.2f}     {r[5]:.3f}  {r[6]:.3f}  {r[7]}/{r[8]}")


if __name__ == "__main__":
    main()
