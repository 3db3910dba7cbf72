"""Conversations and feedback rows in a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.conversations import CONVERSATION_ID, ConversationStore, edit_distance


@pytest.mark.parametrize(
    "a, b, distance",
    [("", "", 0), ("包邮", "包邮", 0), ("包邮", "", 2), ("亲,包邮哦", "亲,包邮哦~", 1), ("kitten", "sitting", 3), ("满99包邮", "满199包邮", 1)],
    ids=["empty", "same", "deleted", "appended", "classic", "inserted-digit"],
)
def test_edit_distance(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b) == distance == edit_distance(b, a)


def test_messages_and_mixed_feedback_rows(tmp_path: Path) -> None:
    store = ConversationStore(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    assert not store.exists("小美")
    first = store.add_message("小美", "customer", "包邮吗")
    reply = store.add_message("小美", "agent", "亲,满99包邮哦")
    assert store.exists("小美")
    assert [m.text for m in store.messages("小美")] == ["包邮吗", "亲,满99包邮哦"]
    assert reply.id > first.id
    rows = [
        {"conversation_id": "小美", "message_id": first.id, "event": "picked", "entry_id": "shipping_fee.free_threshold", "rank": 1},
        {"conversation_id": "小美", "message_id": first.id, "event": "edited", "entry_id": "shipping_fee.free_threshold", "rank": 1, "final_text": "亲,满99包邮哦", "edit_distance": 3},
    ]
    assert store.add_feedback(rows) == 2
    stored = store.feedback("小美")
    assert stored[0]["edit_distance"] is None and stored[0]["final_text"] is None
    assert stored[1]["edit_distance"] == 3 and stored[1]["final_text"] == "亲,满99包邮哦", "rows with more columns keep them"
    assert all(r["created_at"] is not None for r in stored)
    listed = store.conversations()
    assert listed[0]["id"] == "小美" and listed[0]["last_message"]["text"] == "亲,满99包邮哦"


@pytest.mark.parametrize("conversation_id, ok", [("buyer-1", True), ("小美", True), ("a" * 64, True), ("a" * 65, False), ("bad id", False), ("x/y", False), ("", False), ("a\n", False)])
def test_conversation_ids(conversation_id: str, ok: bool) -> None:
    assert bool(CONVERSATION_ID.match(conversation_id)) is ok


def test_sent_suggestions_are_what_fine_tuning_learns_from(tmp_path: Path) -> None:
    store = ConversationStore(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    asked = store.add_message("c1", "customer", "这个能包邮不 亲")
    other = store.add_message("c1", "customer", "在吗")
    store.add_message("c1", "agent", "亲,满99包邮哦")
    store.add_feedback([
        {"conversation_id": "c1", "message_id": asked.id, "event": "shown", "entry_id": "price.coupons", "rank": 2},
        {"conversation_id": "c1", "message_id": asked.id, "event": "sent", "entry_id": "shipping_fee.free_threshold", "rank": 1, "final_text": "亲,满99包邮哦"},
        {"conversation_id": "c1", "message_id": other.id, "event": "sent", "entry_id": None, "final_text": "在的亲"},  # typed by hand
    ])
    assert store.sent_suggestions() == [("这个能包邮不 亲", "shipping_fee.free_threshold")]


def _first_messages_at_once(store: ConversationStore, conversations: int = 10, burst: int = 4) -> list[str]:
    """Each conversation's first `burst` buyer messages sent from as many threads at the same moment; the errors."""
    import threading

    errors: list[str] = []

    def send(conversation_id: str, i: int, start: threading.Barrier) -> None:
        start.wait()
        try:
            store.add_message(conversation_id, "customer", f"在吗 {i}")
        except Exception as exc:  # noqa: BLE001 - every failure is what the test counts
            errors.append(f"{type(exc).__name__}: {exc}".splitlines()[0])

    for n in range(conversations):
        start = threading.Barrier(burst)
        threads = [threading.Thread(target=send, args=(f"burst-{n}", i, start)) for i in range(burst)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return errors


def _check_bursts_kept(store: ConversationStore, conversations: int = 10, burst: int = 4) -> None:
    errors = _first_messages_at_once(store, conversations, burst)
    assert errors == [], f"{len(errors)} of {conversations * burst} first messages failed: {sorted(set(errors))}"
    for n in range(conversations):
        assert sorted(m.text for m in store.messages(f"burst-{n}")) == [f"在吗 {i}" for i in range(burst)]


def test_a_burst_of_first_messages_at_once_all_land_in_one_conversation(tmp_path: Path) -> None:
    """An integration forwards a buyer's quick "在吗" / "发货了吗" as they arrive: creating the conversation twice
    must not fail the second message (it did, on the unique key, and the buyer's message was lost)."""
    _check_bursts_kept(ConversationStore(f"sqlite:///{tmp_path / 'bot.sqlite3'}"))


def test_a_burst_of_first_messages_at_once_on_postgresql(postgres_url: str) -> None:
    from pg_server import fresh_database

    _check_bursts_kept(ConversationStore(fresh_database(postgres_url, "bursts")))


def _check_answered_once(store: ConversationStore, agents: int = 4, rounds: int = 5) -> None:
    """Agents replying at the same moment to the same waiting messages: every reply is kept, each message has one
    "sent" row (the dashboard counted it once per reply), and each agent's own "picked" row stays."""
    import threading

    for n in range(rounds):
        conversation_id = f"race-{n}"
        asked = [store.add_message(conversation_id, "customer", text).id for text in ("在吗", "包邮吗")]
        start = threading.Barrier(agents)
        errors: list[str] = []

        def reply(agent: int) -> None:
            rows = [{"conversation_id": conversation_id, "message_id": m, "event": event, "entry_id": "shipping_fee.free_threshold", "agent": f"a{agent}"}
                    for m in asked for event in ("picked", "sent")]
            start.wait()
            try:
                store.add_reply(conversation_id, f"亲,满99包邮哦 ({agent})", lambda message: rows)
            except Exception as exc:  # noqa: BLE001 - every failure is what the test counts
                errors.append(f"{type(exc).__name__}: {exc}".splitlines()[0])

        threads = [threading.Thread(target=reply, args=(agent,)) for agent in range(agents)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert sum(m.role == "agent" for m in store.messages(conversation_id)) == agents
        sent = [r["message_id"] for r in store.feedback(conversation_id, event="sent")]
        assert sorted(sent) == asked, f"round {n}: sent rows {sent}"
        assert len(store.feedback(conversation_id, event="picked")) == agents * len(asked)
        late = {"conversation_id": conversation_id, "message_id": asked[0], "event": "sent", "final_text": "亲~"}
        assert store.add_feedback([late]) == 0 and len(store.feedback(conversation_id, event="sent")) == len(asked)  # POST /api/feedback


def test_two_agents_answering_the_same_messages_at_once_count_them_once(tmp_path: Path) -> None:
    _check_answered_once(ConversationStore(f"sqlite:///{tmp_path / 'bot.sqlite3'}"))


def test_two_agents_answering_the_same_messages_at_once_on_postgresql(postgres_url: str) -> None:
    from pg_server import fresh_database

    _check_answered_once(ConversationStore(fresh_database(postgres_url, "answered_once")))


def test_the_conversation_list_reads_a_page_in_a_fixed_number_of_queries(tmp_path: Path) -> None:
    """Each conversation with its newest message: read for the whole page at once, not one query per conversation."""
    import sqlalchemy as sa

    store = ConversationStore(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    for n in range(30):
        store.add_message(f"list-{n}", "customer", f"第{n}个问题 包邮吗")
        store.add_message(f"list-{n}", "agent", f"亲,第{n}个回答")
    statements: list[str] = []

    def count(conn, cursor, statement, *rest) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa.event.listen(store.db, "before_cursor_execute", count)
    try:
        few = store.conversations(limit=3)
        queries_for_few = len(statements)
        many = store.conversations(limit=30)
    finally:
        sa.event.remove(store.db, "before_cursor_execute", count)
    assert len(statements) - queries_for_few == queries_for_few, "a longer page took more queries"
    assert [c["last_message"]["text"] for c in few] == [f"亲,第{n}个回答" for n in (29, 28, 27)]
    assert {c["id"]: c["last_message"]["text"] for c in many} == {f"list-{n}": f"亲,第{n}个回答" for n in range(30)}


def test_a_reply_and_its_feedback_are_stored_together_or_not_at_all(tmp_path: Path) -> None:
    """A feedback row that cannot be stored used to leave the reply stored without it (and unknown to the live pages)."""
    import sqlalchemy as sa

    store = ConversationStore(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    asked = store.add_message("r-1", "customer", "包邮吗")

    def broken(reply):  # type: ignore[no-untyped-def]
        return [{"conversation_id": "r-1", "message_id": asked.id, "event": None}]  # NOT NULL: refused by the database

    with pytest.raises(sa.exc.IntegrityError):
        store.add_reply("r-1", "亲,满99包邮哦", broken)
    assert [m.role for m in store.messages("r-1")] == ["customer"] and store.feedback("r-1") == []
    reply, stored = store.add_reply("r-1", "亲,满99包邮哦", lambda reply: [
        {"conversation_id": "r-1", "message_id": asked.id, "event": "sent", "entry_id": "shipping_fee.free_threshold", "final_text": reply.text}])
    assert stored == 1 and [m.role for m in store.messages("r-1")] == ["customer", "agent"]
    assert store.feedback("r-1")[0]["final_text"] == reply.text
