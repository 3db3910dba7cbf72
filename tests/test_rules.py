"""The seeds' service rules as reply checks."""

from __future__ import annotations

import pytest

from bot.rules import check_reply, promises_made

APPROVED = ["亲,全场满99元包邮哦~", "亲,16:30前付款当天发货,一般3-4个工作日送达~"]


@pytest.mark.parametrize("text", ["在", "在的", "嗯", "嗯嗯。", " 在! "], ids=["zai", "zai-de", "en", "enen", "zai-punct"])
def test_a_bare_acknowledgement_warns(text: str) -> None:
    assert [w.rule for w in check_reply(text)] == ["bare_ack"]


def test_a_greeting_is_fine() -> None:
    assert check_reply("您好,我在的,请问有什么可以帮您?") == []


@pytest.mark.parametrize("text", ["这个不能退", "我们不会改价", "不可以的亲", "没办法哦"])
def test_a_bare_no_warns(text: str) -> None:
    assert [w.rule for w in check_reply(text)] == ["negative"]


def test_a_no_with_an_offer_is_fine() -> None:
    assert check_reply("这个价格我这边改不了,不过满99元可以包邮,我帮您凑一单~") == []
    assert check_reply("不能改价哦,不过我可以帮您申请优惠券") == []


def test_a_question_form_is_not_a_refusal() -> None:
    assert check_reply("您看能不能接受呢?") == []


def test_an_unauthorised_promise_warns_only_against_approved_answers() -> None:
    warnings = check_reply("亲,明天到,保证!", promises_made(APPROVED))
    assert {w.fragment for w in warnings if w.rule == "promise"} == {"明天到", "保证"}
    assert check_reply("亲,全场满99元包邮哦~", promises_made(APPROVED)) == []
    assert check_reply("亲,明天到,保证!") == [], "no approved answers given: promise check is off"
