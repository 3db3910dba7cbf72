"""bench/real_dev.py's scoring: the issue's rates per line, and bootstrap intervals for a rate and for a change."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "bench"))

from real_dev import Line, by_intent, intervals, score  # noqa: E402


def _line(
    number: int, acceptable: tuple[str, ...] = ("shipping_fee.free_threshold",), conversation: str | None = None, intent: str = "shipping_fee"
) -> Line:
    return Line("messages.jsonl", number, f"包邮吗{number}", intent, acceptable, "report", conversation_id=conversation)


def _offer(*ids: str) -> dict[str, Any]:
    return {"intent": "shipping_fee", "ids": list(ids), "abstained": False}


ABSTAIN = {"intent": "shipping_fee", "ids": ["out_of_scope.clarify"], "abstained": True}
RIGHT = _offer("shipping_fee.free_threshold", "shipping_fee.remote_areas")
SECOND = _offer("shipping_fee.remote_areas", "shipping_fee.free_threshold")
WRONG = _offer("shipping_fee.remote_areas")


def test_each_rate_counts_the_lines_it_applies_to() -> None:
    lines = [_line(1), _line(2), _line(3), _line(4), _line(5, acceptable=()), _line(6, acceptable=())]
    predictions = {"messages.jsonl:1": RIGHT, "messages.jsonl:2": SECOND, "messages.jsonl:3": WRONG, "messages.jsonl:4": ABSTAIN,
                   "messages.jsonl:5": WRONG, "messages.jsonl:6": ABSTAIN}
    figures = score(lines, predictions)
    assert (figures["answerable"], figures["unanswerable"]) == (4, 2)
    assert figures["first"] == 0.25  # the clarifying script offered while abstaining counts as nothing offered
    assert figures["top3"] == 0.5
    assert figures["abstained_on_answerable"] == 0.25
    assert figures["offered_on_unanswerable"] == 0.5


def test_a_change_of_one_line_in_a_hundred_is_within_the_interval_and_thirty_are_not() -> None:
    lines = [_line(n) for n in range(1, 101)]
    before = {line.key: RIGHT if line.number <= 50 else WRONG for line in lines}
    one = {**before, "messages.jsonl:51": RIGHT}
    thirty = {**before, **{f"messages.jsonl:{n}": RIGHT for n in range(51, 81)}}

    same = intervals(lines, before, before)["first"]
    assert same is not None and (same.change, same.change_low, same.change_high) == (0.0, 0.0, 0.0)
    small = intervals(lines, one, before)["first"]
    assert small is not None and small.change == 0.01 and small.change_low <= 0.0 < small.change_high
    large = intervals(lines, thirty, before)["first"]
    assert large is not None and large.change == 0.3 and 0.15 < large.change_low < 0.3 < large.change_high < 0.45
    assert large.before == 0.5 and large.value == 0.8 and large.low < 0.8 < large.high
    assert intervals(lines, thirty, before) == intervals(lines, thirty, before)  # seeded: the same figures every run


def test_a_conversations_turns_are_resampled_together() -> None:
    """Ten conversations of ten turns, half answered right throughout: ten independent draws, not a hundred."""
    turns = [_line(10 * c + t, conversation=f"c{c}") for c in range(10) for t in range(10)]
    predictions = {line.key: RIGHT if int(line.conversation_id[1:]) < 5 else WRONG for line in turns}  # type: ignore[index]
    together = intervals(turns, predictions)["first"]
    assert together is not None and together.value == 0.5 and together.low <= 0.25 and together.high >= 0.75

    messages = [_line(line.number) for line in turns]  # the same outcomes as a hundred single messages
    apart = intervals(messages, predictions)["first"]
    assert apart is not None and 0.35 < apart.low and apart.high < 0.65
    assert intervals(turns, predictions)["offered_on_unanswerable"] is None  # no unanswerable line


def test_by_intent_splits_the_answerable_lines_by_their_labelled_intent() -> None:
    lines = [_line(1), _line(2), _line(3, acceptable=()), _line(4, ("price.bargain",), intent="price"), _line(5, ("price.bargain",), intent="price")]
    bargain = {"intent": "price", "ids": ["price.bargain"], "abstained": False}
    predictions = {"messages.jsonl:1": RIGHT, "messages.jsonl:2": SECOND, "messages.jsonl:3": WRONG,
                   "messages.jsonl:4": bargain, "messages.jsonl:5": {**bargain, "intent": "complaint", "abstained": True}}
    figures = by_intent(lines, predictions)
    assert figures == {"price": {"n": 2, "first": 0.5, "top3": 0.5}, "shipping_fee": {"n": 2, "first": 0.5, "top3": 1.0}}


def test_the_seed_table_gives_each_draw_and_their_mean_and_range() -> None:
    from real_quality import _seed_table

    def draw(first: float, top3: float, offered: float | None) -> dict[str, dict[str, Any]]:
        rates = {"first": first, "top3": top3, "offered_on_unanswerable": offered}
        return {"messages.jsonl|report|original": rates, "messages.jsonl|report|relabelled": rates}

    rows = _seed_table({42: draw(0.6, 0.8, None), 43: draw(0.7, 0.9, None)})
    assert rows[2:] == [
        "| messages.jsonl | report | 42 | 0.600 | 0.800 | – |",
        "| messages.jsonl | report | 43 | 0.700 | 0.900 | – |",
        "| messages.jsonl | report | mean (range) | 0.650 (0.600 to 0.700) | 0.850 (0.800 to 0.900) | – |",
    ]
