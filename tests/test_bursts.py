"""Bursts of buyer messages end to end: pending questions, the combined reply, order facts; a real server, real Chromium."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from bot.conversations import ConversationStore
from bot.evaluate import pending_coverage
from bot.logs import read_log

from live_server import api, login

DATA = Path(__file__).resolve().parent / "data"
BURST = ["亲 这个是正品吗 有没有假货", "今天拍明天能发吗", "新疆包邮吗", "在吗", "能便宜点吗 买两件"]
QUESTIONS = [0, 1, 2, 4]  # "在吗" in a burst is not a question of its own
INTENTS = ["authenticity", "delivery_time", "shipping_fee", "price"]
ASK_TRACKING = "我买的那单运单号给我看下"
ORDER = {"id": "A20261201", "status": "已发货", "courier": "中通快递", "tracking_no": "7731009955", "paid_at": "2026-12-01T10:00:00"}


def _send_burst(base: str, conversation_id: str) -> list[dict]:
    bodies = []
    for text in BURST:
        status, body = api(base, f"/api/conversations/{conversation_id}/messages", {"text": text})
        assert status == 201, body
        bodies.append(body)
    return bodies


def test_a_burst_lists_its_questions_with_one_combined_reply(server) -> None:  # type: ignore[no-untyped-def]
    base = server["base"]
    bodies = _send_burst(base, "burst-api")
    last = bodies[-1]
    ids = [b["message"]["id"] for b in bodies]
    pending = last["pending"]
    assert [p["message_id"] for p in pending] == [ids[i] for i in QUESTIONS]
    assert [p["text"] for p in pending] == [BURST[i] for i in QUESTIONS]
    assert [p["intent"]["name"] for p in pending] == INTENTS
    assert all(p["suggestions"] and {"id", "text", "score"} <= p["suggestions"][0].keys() for p in pending)
    assert last["suggestion"]["intent"]["name"] == "price", "the message's own suggestion is still there"
    combined = last["combined"]
    entries = [part["entry_id"] for part in combined["parts"]]
    assert len(entries) == len(set(entries)) == 4, "each question answered once"
    assert [part["message_id"] for part in combined["parts"]] == [ids[i] for i in QUESTIONS], "in the buyer's order"
    assert [part["entry_id"].split(".")[0] for part in combined["parts"]] == INTENTS
    lines = combined["text"].splitlines()
    assert len(lines) == 4 and lines[0].startswith("亲") and not any(line.startswith("亲") for line in lines[1:]), "one greeting"
    status, again = api(base, "/api/conversations/burst-api/pending")
    assert status == 200 and again["pending"] == pending and again["combined"] == combined

    # the agent sends the combined draft: all four are answered, each with its entry
    parts = [{"message_id": m, "entry_id": part["entry_id"]} for part in combined["parts"] for m in part["message_ids"]]
    status, sent = api(base, "/api/conversations/burst-api/replies", {"text": combined["text"], "parts": parts, "suggested_text": combined["text"]})
    assert status == 201, sent
    assert sent["pending"] == [] and sent["combined"] is None
    rows = ConversationStore(server["db"]).feedback("burst-api", event="sent")
    assert {(r["message_id"], r["entry_id"]) for r in rows} == {(p["message_id"], p["entry_id"]) for p in parts}
    picked = ConversationStore(server["db"]).feedback("burst-api", event="picked")
    assert {r["rank"] for r in picked} == {1}, "each part is its message's first suggestion"


def test_a_reply_to_one_message_leaves_the_others_pending(server) -> None:  # type: ignore[no-untyped-def]
    base = server["base"]
    ids = [b["message"]["id"] for b in _send_burst(base, "burst-partial")]
    first = ids[0]
    status, suggestion = api(base, f"/api/conversations/burst-partial/messages/{first}/suggestion")
    assert status == 200 and suggestion["intent"]["name"] == "authenticity", "an earlier message has its own suggestions"
    best = suggestion["suggestions"][0]
    status, sent = api(base, "/api/conversations/burst-partial/replies", {"text": best["text"], "message_id": first, "entry_id": best["id"], "rank": 1})
    assert status == 201
    assert [p["message_id"] for p in sent["pending"]] == [ids[i] for i in QUESTIONS[1:]]
    assert len(sent["combined"]["parts"]) == 3
    status, error = api(base, "/api/conversations/burst-partial/replies", {"text": "好的", "answers": [ids[0], 999_999]})
    assert status == 404 and "999999" in error["error"], "a reply names messages of its own conversation"
    status, error = api(base, f"/api/conversations/burst-partial/messages/{ids[-1] + 10_000}/suggestion")
    assert status == 404
    status, error = api(base, "/api/conversations/burst-partial/replies", {"text": "好的", "parts": [{"message_id": ids[1]}]})
    assert status == 400 and "entry_id" in error["error"]


def test_order_facts_fill_the_answer_and_a_missing_one_blocks_sending(server) -> None:  # type: ignore[no-untyped-def]
    base = server["base"]
    status, body = api(base, "/api/conversations/order-known/messages", {"text": ASK_TRACKING, "order": ORDER})
    assert status == 201, body
    best = body["suggestion"]["suggestions"][0]
    assert best["id"] == "logistics_tracking.order_tracking_no"
    assert ORDER["tracking_no"] in best["text"] and ORDER["courier"] in best["text"] and "{" not in best["text"]
    assert best["filled"]["order.tracking_no"] == ORDER["tracking_no"]
    status, later = api(base, "/api/conversations/order-known/messages", {"text": "我的订单哪天能发出去"})
    dispatch = next(s for s in later["suggestion"]["suggestions"] if s["id"] == "delivery_time.order_dispatch_day")
    assert "12月1日 10:00" in dispatch["text"], "the order's facts are kept with the conversation"
    status, found = api(base, "/api/kb/search?q=" + quote("运单号多少") + "&conversation_id=order-known")  # the agent's own search
    tracking = next(r for r in found["results"] if r["id"] == "logistics_tracking.order_tracking_no")
    assert ORDER["tracking_no"] in tracking["text"] and "{" not in tracking["text"], "the agent's search fills the order's facts too"

    status, body = api(base, "/api/conversations/order-unknown/messages", {"text": ASK_TRACKING})
    ranked = [s["id"] for s in body["suggestion"]["suggestions"]]
    assert ranked[:2] == ["logistics_tracking.tracking_number", "logistics_tracking.order_tracking_no"], "without the order, the generic answer first"
    text = body["suggestion"]["suggestions"][1]["text"]
    assert "{order.tracking_no}" in text and "order.tracking_no" not in body["suggestion"]["suggestions"][1]["filled"]
    status, check = api(base, "/api/check", {"text": text})
    assert check["can_send"] is False and "order.tracking_no" in check["leftover_variables"]
    status, error = api(base, "/api/conversations/order-unknown/replies", {"text": text})
    assert status == 422 and "{order.tracking_no}" in error["error"]


@pytest.mark.parametrize("order", [{"colour": "red"}, {"paid_at": "昨天"}, "A100", {"items": [{"title": "杯"}] * 51}])
def test_bad_order_facts_are_refused_and_nothing_is_stored(server, order) -> None:  # type: ignore[no-untyped-def]
    base = server["base"]
    status, error = api(base, "/api/conversations/order-bad/messages", {"text": "单号多少", "order": order})
    assert status == 422 and "order" in error["error"]
    status, messages = api(base, "/api/conversations/order-bad/messages")
    assert messages["messages"] == []


def test_pending_coverage_on_the_burst_log(engine) -> None:  # type: ignore[no-untyped-def]
    """tests/data/bursts.jsonl: 46 conversations written here, each burst's messages labelled with acceptable entries."""
    log = read_log(DATA / "bursts.jsonl")
    result = pending_coverage(engine, log.items)
    assert result is not None and result["bursts"] >= 40
    assert result["listed"] >= 0.95
    assert result["coverage"] >= 0.85, result
    assert result["coverage"] >= result["last_only"] + 0.2, "the combined reply covers far more than the last message's"


# -- the console -------------------------------------------------------------------------------------------------


@pytest.fixture()
def console(browser, server):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page = context.new_page()
    page.on("console", lambda m: errors.append(f"{m.text} ({m.location.get('url')})") if m.type == "error" else None)
    login(page, server["base"], "agent1")
    page.goto(server["base"] + "/agent")
    page.wait_for_selector("body[data-connected=true]")
    yield page, context, errors
    context.close()


def test_the_console_answers_a_burst_with_the_combined_reply(console, server) -> None:  # type: ignore[no-untyped-def]
    agent, context, errors = console
    customer = context.new_page()
    customer.goto(f"{server['base']}/customer?c=burst-ui")
    customer.wait_for_selector("body[data-connected=true]")
    for text in BURST:
        customer.fill("#text", text)
        customer.press("#text", "Enter")
        customer.wait_for_selector(f".msg.customer:text-is('{text}')")
    pending = agent.locator("#pending li")
    expect(pending).to_have_count(4, timeout=30_000)
    metas = [pending.nth(i).locator(".meta").inner_text() for i in range(4)]
    assert [m.split()[0] for m in metas] == INTENTS
    expect(agent.locator("#chat .msg.customer.pending")).to_have_count(4)

    agent.locator("#chat .msg.customer").first.click()  # an earlier message shows its own suggestions
    expect(agent.locator("#intent-name")).to_have_text("authenticity")
    agent.keyboard.press("ArrowDown")
    expect(agent.locator("#intent-name")).to_have_text("delivery_time")

    draft = agent.locator("#combined-draft .combined-text").inner_text()
    assert len(draft.splitlines()) == 4
    agent.keyboard.press("0")
    assert agent.locator("#reply").input_value() == draft
    expect(agent.locator("#send")).to_be_enabled(timeout=30_000)
    agent.locator("#reply").press("Enter")
    customer.wait_for_selector(".msg.agent")
    expect(pending).to_have_count(0, timeout=30_000)
    expect(agent.locator("#chat .msg.customer.pending")).to_have_count(0)
    sent = ConversationStore(server["db"]).feedback("burst-ui", event="sent")
    assert len(sent) == 4 and all(r["entry_id"] for r in sent)
    assert not errors, errors


def test_the_console_shows_order_facts_and_blocks_a_missing_one(console, server) -> None:  # type: ignore[no-untyped-def]
    agent, _, errors = console
    status, _ = api(server["base"], "/api/conversations/order-ui/messages", {"text": ASK_TRACKING, "order": ORDER})
    assert status == 201
    agent.locator("#conversations button[data-id='order-ui']").click()
    expect(agent.locator("#order")).to_contain_text(ORDER["tracking_no"])
    first = agent.locator("#suggestions button").first
    expect(first).to_have_attribute("data-entry-id", "logistics_tracking.order_tracking_no")
    expect(first.locator(".filled")).to_contain_text(f"order.tracking_no={ORDER['tracking_no']}")

    status, _ = api(server["base"], "/api/conversations/order-none/messages", {"text": "快递单号发我一下"})
    agent.locator("#conversations button[data-id='order-none']").click()
    expect(agent.locator("#intent-name")).to_have_text("logistics_tracking")
    agent.locator("#search").fill("我这单的运单号")
    agent.locator("#results button[data-entry-id='logistics_tracking.order_tracking_no']").click()
    expect(agent.locator("#warnings li[data-rule=variable]")).to_contain_text("{order.tracking_no}")
    expect(agent.locator("#send")).to_be_disabled()
    assert not errors, errors
