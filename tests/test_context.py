"""The conversation structure (bot.context), order facts (bot.order) and the combined reply (bot.burst), without models."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from bot.burst import PendingQuestion, combine, covered
from bot.context import (
    AgentTurn,
    BuyerTurn,
    conversation_of,
    from_messages,
    from_rasa_events,
    replay_log,
)
from bot.conversations import ConversationStore
from bot.kb.template import fill, variables
from bot.kb.validate import check_content
from bot.logs import read_log
from bot.nlu import IntentScore
from bot.order import SHOP_TIME, OrderError, dispatch_day, order_facts, parse_order
from bot.suggestion import Reply, Suggestion

DATA = Path(__file__).resolve().parent / "data"
SHOP = {"dispatch_cutoff": "16:30", "courier": "申通快递"}


def customer(text: str, message_id: int | None = None) -> dict:
    return {"role": "customer", "text": text, **({"message_id": message_id} if message_id is not None else {})}


def test_a_reply_that_names_nothing_answers_every_waiting_message_and_its_entry_goes_to_the_last() -> None:
    conversation = conversation_of(
        [customer("这款有货吗"), {"role": "agent", "text": "有的", "entry_id": "product_info.stock"},
         customer("【淘宝】https://m.tb.cn/h.5Xk2Pq 「收纳盒」"), customer("急"), customer("包邮吗"),
         {"role": "agent", "text": "满99包邮", "entry_id": "shipping_fee.free_threshold"}, customer("好的")]
    )
    buyer = conversation.buyer_turns
    assert [t.text for t in buyer] == ["这款有货吗", "急", "包邮吗", "好的"], "shared links ask nothing"
    assert [t.answered for t in buyer] == [True, True, True, False]
    assert [t.reply_entry for t in buyer] == ["product_info.stock", None, "shipping_fee.free_threshold", None]
    assert isinstance(conversation.turns[1], AgentTurn)


def test_a_reply_that_names_its_messages_answers_only_those_each_with_its_part() -> None:
    conversation = conversation_of(
        [customer("是正品吗", 1), customer("在吗", 2), customer("包邮吗", 3), customer("能便宜点吗", 4),
         {"role": "agent", "text": "...", "message_id": 5, "parts": [
             {"message_id": 1, "entry_id": "authenticity.genuine_guarantee"}, {"message_id": 3, "entry_id": "shipping_fee.free_threshold"}]}]
    )
    answered = {t.message_id: (t.answered, t.reply_entry) for t in conversation.buyer_turns}
    assert answered == {1: (True, "authenticity.genuine_guarantee"), 2: (False, None), 3: (True, "shipping_fee.free_threshold"), 4: (False, None)}
    assert [t.text for t in conversation.pending()] == ["能便宜点吗"], "a bare 在吗 is not a question of its own"
    assert [t.message_id for t in conversation.before(4).buyer_turns] == [1, 2, 3]


def test_pending_keeps_a_lone_greeting_and_the_newest_questions() -> None:
    assert [t.text for t in conversation_of([customer("在吗", 1), customer("亲", 2)]).pending()] == ["亲"]
    answered = conversation_of([customer("在吗", 1), customer("包邮吗", 2), {"role": "agent", "text": "满99包邮", "answers": [2]}])
    assert answered.pending() == (), "the greeting of an answered burst is not left waiting"
    many = conversation_of([customer(f"第{i}个问题多少钱", i) for i in range(1, 13)])
    assert [t.message_id for t in many.pending()] == list(range(5, 13))


def test_the_database_rows_become_the_same_structure(tmp_path: Path) -> None:
    store = ConversationStore(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    first = store.add_message("c1", "customer", "是正品吗")
    second = store.add_message("c1", "customer", "包邮吗", parse_order({"id": "A100", "tracking_no": "773100"}))
    store.add_message("c1", "agent", "亲,正品哦")
    store.add_feedback([{"conversation_id": "c1", "message_id": first.id, "event": "sent", "entry_id": "authenticity.genuine_guarantee", "final_text": "亲,正品哦"}])
    conversation = store.conversation("c1")
    assert [(t.text, t.answered, t.reply_entry) for t in conversation.buyer_turns] == [
        ("是正品吗", True, "authenticity.genuine_guarantee"), ("包邮吗", False, None)]
    assert [t.message_id for t in conversation.pending()] == [second.id]
    assert conversation.order is not None and conversation.order.tracking_no == "773100"
    store.add_message("c1", "customer", "还有吗", parse_order({"id": "A200"}))
    assert store.order("c1").id == "A200" and store.order("c1").tracking_no is None, "the latest order facts replace the earlier"
    same = from_messages(store.messages("c1"), {first.id: "authenticity.genuine_guarantee"})
    assert [t.answered for t in same.buyer_turns] == [True, False, False]


def test_rasa_tracker_events_become_the_conversation_without_our_own_suggestions() -> None:
    events = [
        {"event": "session_started"},
        {"event": "user", "text": "包邮吗"},
        {"event": "action", "name": "action_suggest_replies"},
        {"event": "bot", "text": None, "data": {"custom": {"suggestions": []}}},
        {"event": "bot", "text": "满99包邮", "metadata": {"entry_id": "shipping_fee.free_threshold"}},
        {"event": "user", "text": "好的"},
    ]
    message, conversation = from_rasa_events(events)
    assert message == "好的"
    assert conversation.buyer_turns == (BuyerTurn("包邮吗", answered=True, reply_entry="shipping_fee.free_threshold"),)


def test_a_log_with_bursts_replays_them_unanswered_until_the_agent_answers() -> None:
    log = read_log(DATA / "bursts.jsonl")
    assert not log.problems
    conversations = {i.conversation_id for i in log.items}
    assert len(conversations) >= 40
    steps = replay_log(log.items)
    first = [s for s in steps if log.items[s.position].conversation_id == "b01"]
    assert [len(s.before.buyer_turns) for s in first] == [0, 1, 2, 3, 4]
    assert not any(t.answered for t in first[-1].before.buyer_turns), "a burst waits for one answer"
    assert [s.answering is not None for s in first] == [False, False, False, False, True]
    two = [s for s in steps if log.items[s.position].conversation_id == "b99"]
    assert [t.answered for t in two[2].before.buyer_turns] == [True, True], "the first burst was answered"


def _question(message_id: int, entry: str, text: str) -> PendingQuestion:
    intent = IntentScore(entry.split(".")[0], 0.9)
    return PendingQuestion(message_id, "?", Suggestion(intent, (intent,), (Reply(entry, text, 0.9, intent.name, ""),), abstained=False))


def test_the_combined_reply_answers_each_question_once_in_order_with_one_greeting() -> None:
    abstained = PendingQuestion(9, "嗯?", Suggestion(IntentScore("out_of_scope", 0.2), (), (), abstained=True))
    combined = combine([
        _question(1, "authenticity.genuine_guarantee", "亲,我们家都是正品哦~"),
        _question(2, "shipping_fee.free_threshold", "亲,满99包邮哦~"),
        abstained,
        _question(3, "authenticity.genuine_guarantee", "亲,我们家都是正品哦~"),
        _question(4, "price.bargain_not_authorised", "亲亲,价格是统一的哦~"),
        _question(5, "delivery_time.dispatch_time", "您好,16:30前付款当天发~"),
    ])
    assert combined is not None
    assert [(p.entry_id, p.message_ids) for p in combined.parts] == [
        ("authenticity.genuine_guarantee", (1, 3)), ("shipping_fee.free_threshold", (2,)),
        ("price.bargain_not_authorised", (4,)), ("delivery_time.dispatch_time", (5,))]
    assert combined.text.splitlines() == ["亲,我们家都是正品哦~", "另外,满99包邮哦~", "还有,价格是统一的哦~", "最后,16:30前付款当天发~"]
    assert covered(combined) == {1, 2, 3, 4, 5}
    assert combine([abstained]) is None


def test_order_facts_are_checked_and_read_as_variables() -> None:
    order = parse_order({"id": "A100", "status": "已发货", "courier": "中通", "tracking_no": "7731", "paid_at": "2026-12-01T15:20:00",
                         "items": [{"title": "保温杯", "sku": "B-500"}]})
    now = datetime(2026, 12, 1, 18, 0, tzinfo=SHOP_TIME)
    facts = order_facts(order, SHOP, now)
    assert facts == {"order.id": "A100", "order.status": "已发货", "order.courier": "中通", "order.tracking_no": "7731",
                     "order.paid_at": "12月1日 15:20", "order.dispatch_day": "今天"}
    filled = fill("运单号{order.tracking_no},{courier}", {**SHOP, **facts})
    assert filled.text == "运单号7731,申通快递" and not filled.missing
    assert fill("运单号{order.tracking_no}", SHOP).missing == ("order.tracking_no",), "an unknown fact keeps its placeholder"
    assert json.loads(order.to_json())["items"] == [{"title": "保温杯", "sku": "B-500"}]


@pytest.mark.parametrize(
    "paid_at, now, day",
    [("2026-12-01T16:29:00", "2026-12-01T17:00:00", "今天"), ("2026-12-01T16:30:00", "2026-12-01T17:00:00", "明天"),
     ("2026-12-01T08:31:00Z", "2026-12-01T17:00:00", "明天"),  # 16:31 in Beijing
     ("2026-11-28T10:00:00", "2026-12-01T09:00:00", "11月28日")],
    ids=["before-cutoff", "at-cutoff", "utc-after-cutoff", "days-ago"],
)
def test_the_dispatch_day_follows_the_shops_cutoff(paid_at: str, now: str, day: str) -> None:
    order = parse_order({"paid_at": paid_at})
    assert order.paid_at is not None
    assert dispatch_day(order.paid_at, SHOP, datetime.fromisoformat(now).replace(tzinfo=SHOP_TIME)) == day


@pytest.mark.parametrize(
    "raw, problem",
    [([1], "must be an object"), ({"colour": "red"}, "order.colour"), ({"paid_at": "yesterday"}, "order.paid_at"),
     ({"id": "x" * 101}, "order.id"), ({"items": [{"title": "杯", "price": 3}]}, "order.items.0.price"),
     ({"items": [{}] * 51}, "limit is 50")],
    ids=["not-object", "unknown-field", "bad-time", "long-id", "unknown-item-field", "too-many-items"],
)
def test_bad_order_facts_say_which_field(raw: object, problem: str) -> None:
    with pytest.raises(OrderError, match=problem.replace(".", r"\.")):
        parse_order(raw)


def test_the_kb_validator_knows_the_order_facts() -> None:
    shop = {"courier": "申通快递"}
    good = {"intent": "logistics_tracking", "questions": ["单号多少"], "answer": "{courier}单号{order.tracking_no},{order.dispatch_day}发"}
    assert check_content(good, ["logistics_tracking"], shop) == {}
    assert variables(good["answer"]) == ["courier", "order.tracking_no", "order.dispatch_day"]
    bad = {**good, "answer": "单号{order.phone}"}
    assert "order.phone" in check_content(bad, ["logistics_tracking"], shop)["answer"][0]
