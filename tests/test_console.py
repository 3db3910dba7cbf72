"""The agent console end to end: a real `bot serve` on loopback, a real SQLite file, a real headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from bot.conversations import ConversationStore

from live_server import api, login

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def pages(browser, server):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1400, "height": 860})
    dialogs: list[str] = []
    context.on("page", lambda page: page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss())))
    first = context.new_page()
    login(first, server["base"], "agent1")
    first.close()

    def agent():  # type: ignore[no-untyped-def]
        page = context.new_page()
        page.goto(server["base"] + "/agent")
        page.wait_for_selector("body[data-connected=true]")
        return page

    def customer(conversation_id: str):  # type: ignore[no-untyped-def]
        page = context.new_page()
        page.goto(f"{server['base']}/customer?c={conversation_id}")
        page.wait_for_selector("body[data-connected=true]")
        return page

    yield agent, customer, dialogs
    context.close()


def _say(customer_page, text: str) -> None:  # type: ignore[no-untyped-def]
    customer_page.fill("#text", text)
    customer_page.press("#text", "Enter")


def _open_chat(agent, conversation_id: str) -> None:  # type: ignore[no-untyped-def]
    """Select a conversation in the agent's list once it is there, and wait for its suggestions."""
    button = f"#conversations button[data-id='{conversation_id}']"
    agent.wait_for_selector(button)
    agent.locator(button).click()
    agent.wait_for_selector("#intent-name")


def test_customer_question_agent_picks_edits_and_sends(pages, server) -> None:  # type: ignore[no-untyped-def]
    open_agent, open_customer, _ = pages
    agent = open_agent()
    customer = open_customer("buyer-1")
    _say(customer, "是正品吗")
    agent.wait_for_selector("#intent-name:text('authenticity')")
    first = agent.locator("#suggestions button").first
    entry_id = first.get_attribute("data-entry-id")
    assert entry_id.startswith("authenticity.")
    suggested = first.inner_text()
    agent.locator("body").click(position={"x": 5, "y": 5})
    agent.keyboard.press("1")
    reply = agent.locator("#reply")
    assert reply.input_value() and reply.input_value() in suggested
    original = reply.input_value()
    reply.press("End")
    agent.keyboard.type(" 放心拍哦")
    expect(agent.locator("#send")).to_be_enabled(timeout=30_000)
    reply.press("Enter")
    customer.wait_for_selector(".msg.agent:text('放心拍哦')")
    assert customer.locator(".msg.agent").last.inner_text() == original + " 放心拍哦"
    rows = ConversationStore(server["db"]).feedback("buyer-1")
    events = {r["event"]: r for r in rows}
    assert {"shown", "picked", "edited", "sent"} <= set(events)
    assert events["picked"]["rank"] == 1 and events["picked"]["entry_id"] == entry_id
    expect(agent.locator("#suggestions button")).to_have_count(0)  # answered: the panel moves on (nothing is pending)
    assert events["edited"]["edit_distance"] == len(" 放心拍哦")
    assert events["sent"]["final_text"] == original + " 放心拍哦"
    assert sum(r["event"] == "ignored" for r in rows) == 2  # the other two suggestions shown


def test_two_customers_at_once(pages) -> None:  # type: ignore[no-untyped-def]
    open_agent, open_customer, _ = pages
    agent = open_agent()
    alice, bob = open_customer("buyer-a"), open_customer("buyer-b")
    _say(alice, "包邮吗")
    _open_chat(agent, "buyer-a")
    agent.wait_for_selector("#intent-name:text('shipping_fee')")
    _say(bob, "什么时候发货")
    badge = agent.locator("#conversations button[data-id='buyer-b'] .badge")
    badge.wait_for()
    assert badge.inner_text() == "1"
    assert agent.locator("#intent-name").inner_text() == "shipping_fee", "the selected chat keeps its own suggestions"
    agent.locator("#conversations button[data-id='buyer-b']").click()
    agent.wait_for_selector("#intent-name:text('delivery_time')")
    assert agent.locator("#conversations button[data-id='buyer-b'] .badge").inner_text() == ""


def test_follow_up_uses_the_conversation(pages) -> None:  # type: ignore[no-untyped-def]
    open_agent, open_customer, _ = pages
    agent = open_agent()
    customer = open_customer("buyer-ctx")
    _say(customer, "是正品吗")
    _open_chat(agent, "buyer-ctx")
    agent.wait_for_selector("#intent-name:text('authenticity')")
    _say(customer, "这款多少钱")
    agent.wait_for_selector("#intent-name:text('price')")
    # A question with one plain answer: "那运费呢" may as well get "the fee shows at checkout, tell me your address",
    # a reply that waits on the buyer, after which "好的" rightly gets no closing script.
    _say(customer, "那包邮吗")
    agent.wait_for_selector("#intent-name:text('shipping_fee')")
    _say(customer, "这个呢")  # no topic of its own: the previous message's
    expect(agent.locator("#chat .msg.customer")).to_have_count(4, timeout=30_000)
    agent.wait_for_selector("#intent-name:text('shipping_fee')")
    assert agent.locator("#intent-context").inner_text() == "接上文「那包邮吗」"
    agent.locator("body").click(position={"x": 5, "y": 5})
    agent.keyboard.press("1")  # the agent answers with the first suggestion...
    expect(agent.locator("#send")).to_be_enabled(timeout=30_000)
    agent.locator("#reply").press("Enter")
    customer.wait_for_selector(".msg.agent")
    _say(customer, "好的")  # ...and the buyer's acknowledgement is the moment for the closing script
    agent.wait_for_selector("#intent-name:text('thanks_goodbye')")
    assert agent.locator("#suggestions button").first.get_attribute("data-entry-id") == "thanks_goodbye.closing"
    assert "affirm" in agent.locator("#intent-context").inner_text()


def test_customer_text_is_shown_as_text(pages) -> None:  # type: ignore[no-untyped-def]
    open_agent, open_customer, dialogs = pages
    agent = open_agent()
    customer = open_customer("buyer-xss")
    payload = "<img src=x onerror=alert(1)>"
    _say(customer, payload)
    _open_chat(agent, "buyer-xss")
    agent.wait_for_selector("#chat .msg.customer")
    assert agent.locator("#chat .msg.customer").last.inner_text() == payload
    assert agent.locator("#chat img").count() == 0 and customer.locator("#chat img").count() == 0
    _say(customer, "包邮吗")  # a later message shown means the payload's render (and any onerror) has run
    expect(agent.locator("#chat .msg.customer")).to_have_count(2, timeout=30_000)
    assert dialogs == []


def test_rule_warnings_and_unfilled_variables(pages) -> None:  # type: ignore[no-untyped-def]
    open_agent, open_customer, _ = pages
    agent = open_agent()
    customer = open_customer("buyer-rules")
    _say(customer, "在吗")
    _open_chat(agent, "buyer-rules")
    agent.locator("#reply").fill("在")
    agent.wait_for_selector("#warnings li[data-rule='bare_ack']")
    agent.locator("#reply").fill("这个不能退")
    agent.wait_for_selector("#warnings li[data-rule='negative']")
    assert not agent.locator("#send").is_disabled(), "rules only warn"
    agent.locator("#reply").fill("欢迎光临{shop_name}")
    agent.wait_for_selector("#warnings li[data-rule='variable']")
    assert agent.locator("#send").is_disabled(), "a leftover {variable} blocks sending"
    agent.locator("#reply").press("Enter")
    agent.locator("#reply").fill("好的亲,马上为您查看")
    expect(agent.locator("#send")).to_be_enabled()
    agent.locator("#reply").press("Enter")  # the next reply the buyer sees is this one: the blocked Enter sent nothing
    customer.wait_for_selector(".msg.agent")
    assert [m.inner_text() for m in customer.locator(".msg.agent").all()] == ["好的亲,马上为您查看"]


def test_kb_search_by_keyboard(pages) -> None:  # type: ignore[no-untyped-def]
    open_agent, open_customer, _ = pages
    agent = open_agent()
    customer = open_customer("buyer-search")
    _say(customer, "你好")
    _open_chat(agent, "buyer-search")
    agent.locator("body").click(position={"x": 5, "y": 5})
    agent.keyboard.press("/")
    assert agent.evaluate("document.activeElement.id") == "search"
    agent.keyboard.type("运费险")
    agent.wait_for_selector("#results button[data-entry-id='return_refund.shipping_insurance']")
    agent.keyboard.press("Enter")
    assert "运费险" in agent.locator("#reply").input_value()


def test_api_errors_are_clear_and_change_nothing(server) -> None:  # type: ignore[no-untyped-def]
    base = server["base"]
    before = len(ConversationStore(server["db"]).feedback())
    assert api(base, "/api/conversations/x1/messages", {"text": ""}) == (422, {"error": "message is empty"})
    status, body = api(base, "/api/conversations/x1/messages", raw=b"not json")
    assert status == 400 and "not JSON" in body["error"]
    status, body = api(base, "/api/conversations/x1/messages", raw=b"\xff\xfe")
    assert status == 400 and "UTF-8" in body["error"]
    status, body = api(base, "/api/conversations/x1/messages", {"text": 42})
    assert status == 422 and "must be text" in body["error"]
    status, body = api(base, "/api/conversations/x1/messages", {"text": "包" * 5000})
    assert status == 422 and "limit" in body["error"]
    status, body = api(base, "/api/conversations/x1/messages", raw=b'{"text": "' + b"a" * 70000 + b'"}')
    assert status == 413
    status, body = api(base, "/api/conversations/no-such-chat/replies", {"text": "您好"})
    assert status == 404
    status, body = api(base, "/api/conversations/bad%20id/messages", {"text": "您好"})
    assert status == 400
    status, body = api(base, "/api/feedback", {"conversation_id": "x1", "event": "liked"})
    assert status == 400 and "event" in body["error"]
    assert len(ConversationStore(server["db"]).feedback()) == before


def test_integration_api_round_trip(server) -> None:  # type: ignore[no-untyped-def]
    base = server["base"]
    status, posted = api(base, "/api/conversations/shop-42/messages", {"text": "能包邮吗"})
    assert status == 201
    assert posted["suggestion"]["intent"]["name"] == "shipping_fee"
    top = posted["suggestion"]["suggestions"][0]
    status, replied = api(base, "/api/conversations/shop-42/replies", {"text": top["text"], "message_id": posted["message"]["id"], "entry_id": top["id"], "rank": 1, "suggested_text": top["text"]})
    assert status == 201 and replied["message"]["role"] == "agent"
    status, stored = api(base, "/api/feedback", {"conversation_id": "shop-42", "event": "ignored", "entry_id": "x", "rank": 3})
    assert status == 201
    rows = ConversationStore(server["db"]).feedback("shop-42")
    assert [r["event"] for r in rows if r["event"] != "shown"] == ["picked", "ignored", "ignored", "sent", "ignored"]
    assert not any(r["event"] == "edited" for r in rows), "sent as suggested: no edit"
    status, body = api(base, "/api/suggest?q=" + urllib.parse.quote("是正品吗"))
    assert status == 200 and body["intent"]["name"] == "authenticity"


def test_assets_are_local(server) -> None:  # type: ignore[no-untyped-def]
    for page in ("/agent", "/customer", "/editor", "/login"):
        html = (PROJECT / "bot/server/static" / (page.strip("/") + ".html")).read_text(encoding="utf-8")
        assert "http://" not in html and "https://" not in html
    assert shutil.which("fc-list") is None or "CJK" in subprocess.run(["fc-list"], capture_output=True, text=True).stdout


def test_a_reloaded_console_shows_suggestions_for_existing_chats(pages) -> None:  # type: ignore[no-untyped-def]
    open_agent, open_customer, _ = pages
    customer = open_customer("buyer-reload")
    _say(customer, "什么时候发货")
    customer.wait_for_selector(".msg.customer")
    agent = open_agent()  # opened after the message: nothing arrives over the socket
    _open_chat(agent, "buyer-reload")
    agent.wait_for_selector("#intent-name:text('delivery_time')")
    assert agent.locator("#suggestions button").count() == 3
    assert agent.locator("#chat .msg.customer").inner_text() == "什么时候发货"
