"""Encoder fine-tuning (the `bot train` step): pairs, batches, the current model, and that it earns its place."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import numpy as np
from ruamel.yaml import YAML

from bot.encoder import Encoder, encoder_path, finetuned_encoder, resolve_encoder
from bot.finetune import batches, finetune_encoder, training_pairs
from bot.intents import load_intents
from bot.kb import KBContent
from bot.kb.files import read_kb
from bot.normalize import normalize
from bot.settings import FinetuneSettings, load_settings

PROJECT = Path(__file__).resolve().parents[1]
SEED = read_kb(PROJECT / "kb", load_intents(PROJECT))


def test_pairs_cover_every_question_and_sent_suggestions() -> None:
    pairs = training_pairs(SEED, accepted=[("这个能包邮不 亲", "shipping_fee.free_threshold"), ("x", "no.such_entry")])
    approved = [e for e in SEED.approved() if e.questions]
    assert {p.entry_id for p in pairs} == {e.id for e in approved}
    assert len(pairs) == sum(2 * len(e.questions) for e in approved) + 1  # a sibling question and the answer, each
    assert any(p.anchor == normalize("这个能包邮不 亲") and p.entry_id == "shipping_fee.free_threshold" for p in pairs)


def test_no_batch_holds_two_pairs_of_one_entry() -> None:
    pairs = training_pairs(SEED)
    for by_intent in (False, True):
        plan = batches(pairs, 32, random.Random(1), by_intent)
        assert sum(len(b) for b in plan) >= len(pairs) - len({p.entry_id for p in pairs})  # only lone leftovers dropped
        for batch in plan:
            assert len({p.entry_id for p in batch}) == len(batch)
            assert len({p.to_answer for p in batch}) == 1  # questions and answers apart: a batch pads to its longest
        assert {b[0].to_answer for b in plan[:10]} == {False, True}  # and the two kinds shuffled together


def test_a_fine_tuned_encoder_becomes_current_and_is_reused(tmp_path: Path) -> None:
    small = KBContent(shop=SEED.shop, entries=tuple(e for e in SEED.approved() if e.intent == "shipping_fee")[:4])
    base = resolve_encoder("m3e-small")
    recipe = FinetuneSettings(epochs=1, batch_size=4)
    path, trained = finetune_encoder(tmp_path, base, small, (), recipe, echo=lambda _: None)
    assert trained and (path / "config.json").is_file()
    from sentence_transformers import SentenceTransformer

    assert SentenceTransformer(str(path)).max_seq_length == SentenceTransformer(str(base)).max_seq_length  # cut in training only
    assert finetuned_encoder(tmp_path, base) == path
    settings = replace(load_settings(PROJECT), models_path=tmp_path)
    assert encoder_path(settings) == path
    assert encoder_path(replace(settings, finetune=replace(settings.finetune, enabled=False))) == base
    again, trained_again = finetune_encoder(tmp_path, base, small, (), recipe, echo=lambda _: None)
    assert again == path and not trained_again  # same KB and recipe: the same model, not trained twice
    assert finetuned_encoder(tmp_path / "elsewhere", base) is None


def test_fine_tuning_ranks_held_out_buyer_messages_better(finetuned_encoder: Path) -> None:
    """On tests/data/buyer_style.yml (never trained on), nearest-question retrieval with the fine-tuned encoder puts
    an acceptable entry first more often than the encoder as shipped."""
    items = [i for i in YAML(typ="safe", pure=True).load((PROJECT / "tests/data/buyer_style.yml").read_text(encoding="utf-8")) if i["acceptable"]]
    rows = [(normalize(q), e.id) for e in SEED.approved() for q in e.questions]

    def first_right(path: Path) -> float:
        encoder = Encoder(path, "torch")
        kb = encoder.encode([text for text, _ in rows])
        queries = encoder.encode([normalize(str(i["text"])) for i in items])
        best = np.argmax(queries @ kb.T, axis=1)
        return float(np.mean([rows[b][1] in i["acceptable"] for b, i in zip(best, items)]))

    base, tuned = first_right(resolve_encoder("m3e-small")), first_right(finetuned_encoder)
    assert tuned >= base + 0.05, (base, tuned)
