"""Noisy buyer-style messages (tests/data/buyer_style.yml, held out: never trained or tuned on): floors per pattern."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

DATA = Path(__file__).resolve().parent / "data" / "buyer_style.yml"
ITEMS: list[dict[str, Any]] = YAML(typ="safe", pure=True).load(DATA.read_text(encoding="utf-8"))

# Floors a few points under what bench/real_quality.py's engine measured on this file (see each pattern's comment);
# "first" is the share of answerable messages whose first suggestion is acceptable, "offered" the share of
# unanswerable ones that got a suggestion instead of an abstention.
# Measured again at issue 17's third stop (the encoder fine-tuned 1.5x faster: batches of one kind, texts cut to 64
# tokens while training): first / top 3 below; at its second stop in brackets.
FLOORS = {
    # noise: 0.914 / 1.000 with the seventeenth stop's encoder (a new draw: one message fewer first), so 0.88 keeps a margin
    "noise": {"first": 0.88, "top3": 0.94},  # 0.943 / 1.000 on 35 messages (0.943 / 1.000)
    "closing": {"first": 0.70, "top3": 0.70},  # 0.806 / 0.871 on 31 (0.839 / 0.871)
    "multi": {"first": 0.78, "top3": 0.93},  # 0.941 / 1.000 on 34 (0.971 / 1.000)
    "holding": {"first": 0.62, "top3": 0.84},  # 0.813 / 0.906 on 32 (0.813 / 0.906)
    "aftersales": {"first": 0.80, "top3": 0.88},  # 0.939 / 0.970 on 33 (0.939 / 0.970)
    # added at issue 17's seventeenth stop: 0.467 / 0.667 before the KB's ten phrasings of an order just placed; the
    # eighteenth stop's encoder (a new draw) reads one fewer first, so 0.66 keeps a message's margin
    "ordered": {"first": 0.66, "top3": 0.80},  # 0.733 / 0.933 on 15 (0.800 / 0.933 at the seventeenth stop)
    # added at issue 17's eighteenth stop: 0.286 / 0.429 before the KB's eleven phrasings of "is it new, not used"
    "brand_new": {"first": 0.78, "top3": 0.78},  # 0.929 / 0.929 on 14
    # added at issue 17's nineteenth stop: 0.500 / 0.750 before the KB's thirteen phrasings of "is the price real" and of
    # a buyer's own suspicion of fakes
    "real_or_fake": {"first": 0.56, "top3": 0.81},  # 0.625 / 0.875 on 16
}
# 13 of the 31 messages no entry answers get a suggestion (0.419 at issue 17's nineteenth stop; 14 at its eighteenth, 13 at
# its seventeenth, 15 at its third, 14 at its second, 0.355 in its first). A conversation's first message that only
# points back ("还有呢") gets the clarifying script instead; a 16th offer fails this.
MAX_OFFERED_ON_UNANSWERABLE = 0.50


def _rates(engine: Any) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    by_pattern: dict[str, list[tuple[dict[str, Any], Any]]] = defaultdict(list)
    for item in ITEMS:
        by_pattern[item["pattern"]].append((item, engine.suggest(str(item["text"]))))
    rates = {}
    for pattern, results in by_pattern.items():
        answerable = [(i, r) for i, r in results if i["acceptable"]]
        offered = [[] if r.abstained else [s.id for s in r.suggestions] for _, r in answerable]
        rates[pattern] = {
            "n": len(results),
            "first": sum(bool(o) and o[0] in i["acceptable"] for (i, _), o in zip(answerable, offered)) / max(1, len(answerable)),
            "top3": sum(any(x in i["acceptable"] for x in o[:3]) for (i, _), o in zip(answerable, offered)) / max(1, len(answerable)),
            "offered": sum(not r.abstained for i, r in results if not i["acceptable"]) / max(1, len(results) - len(answerable)),
        }
    return rates


@pytest.fixture(scope="module")
def rates(engine) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    return _rates(engine)


@pytest.mark.parametrize("pattern", sorted(FLOORS))
def test_each_pattern_of_real_buyer_language_meets_its_floor(rates, pattern: str) -> None:  # type: ignore[no-untyped-def]
    assert rates[pattern]["first"] >= FLOORS[pattern]["first"], rates[pattern]
    assert rates[pattern]["top3"] >= FLOORS[pattern]["top3"], rates[pattern]


def test_messages_no_entry_answers_are_mostly_left_to_the_agent(rates) -> None:  # type: ignore[no-untyped-def]
    assert rates["unanswerable"]["offered"] <= MAX_OFFERED_ON_UNANSWERABLE, rates["unanswerable"]


@pytest.mark.parametrize(
    "text, entry",
    [
        ("没了，多谢！！", "thanks_goodbye.closing"),
        ("好的，明白了", "thanks_goodbye.closing"),
        ("暂时不用了 给你好评", "thanks_goodbye.closing"),
        ("在么 快递收到了 少了一件", "complaint.missing_item"),
        ("有加厚款吗", "product_info.need_to_check"),
        ("我要申请售后！", "return_refund.refund_process"),
    ],
    ids=["noisy-thanks", "ack-final", "praise-goodbye", "several-clauses", "holding", "after-sales"],
)
def test_the_issue_examples_get_the_reply_an_agent_sends(engine, text: str, entry: str) -> None:  # type: ignore[no-untyped-def]
    result = engine.suggest(text)
    assert not result.abstained, result
    assert result.suggestions[0].id == entry, [s.id for s in result.suggestions]


def test_noise_does_not_change_the_answer(engine) -> None:  # type: ignore[no-untyped-def]
    for clean, noisy in [("没了 多谢", "没了，多谢！！"), ("包邮吗", "包油吗？？亲～～"), ("是正品吗", "是正品麽😂")]:
        a, b = engine.suggest(clean), engine.suggest(noisy)
        assert [s.id for s in a.suggestions][:1] == [s.id for s in b.suggestions][:1], (clean, noisy)
        assert a.intent.name == b.intent.name and a.abstained == b.abstained
