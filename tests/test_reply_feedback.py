"""What an agent's reply records about the suggestions, computed without a server."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.reply_feedback import AgentReply, feedback_rows

ARRIVED = datetime(2026, 12, 1, 10, 0, 0)


def _shown(message_id: int, *entries: str) -> list[dict]:
    return [{"event": "shown", "message_id": message_id, "entry_id": e, "rank": r, "intent": "price"} for r, e in enumerate(entries, 1)]


def _reply(**fields) -> AgentReply:  # type: ignore[no-untyped-def]
    values = {"text": "亲,满99包邮哦~", "message_id": None, "entry_id": None, "rank": None, "suggested_text": None, "answers": (), "parts": {}, "agent": "erin"}
    return AgentReply(**{**values, **fields})


def test_an_edited_second_suggestion_is_picked_edited_and_the_others_ignored() -> None:
    reply = _reply(message_id=7, entry_id="b", rank=2, suggested_text="亲,满99包邮~")
    rows = feedback_rows("c1", reply, reply.answered([]), _shown(7, "a", "b", "c"), {7: ARRIVED}, ARRIVED + timedelta(seconds=12))
    events = [(r["event"], r["entry_id"], r["rank"]) for r in rows]
    assert events == [("picked", "b", 2), ("edited", "b", 2), ("ignored", "a", 1), ("ignored", "c", 3), ("sent", "b", 2)]
    assert rows[1]["edit_distance"] == 1 and rows[1]["suggested_chars"] == len("亲,满99包邮~")
    assert rows[-1]["wait_ms"] == 12_000 and rows[-1]["intent"] == "price" and {r["agent"] for r in rows} == {"erin"}


def test_a_combined_reply_credits_each_part_to_its_own_message() -> None:
    reply = _reply(parts={1: "a", 2: "y"})
    read = _shown(1, "a", "b") + _shown(2, "x", "y")
    rows = feedback_rows("c1", reply, reply.answered([5]), read, {1: ARRIVED, 2: ARRIVED}, ARRIVED)
    picked = {(r["message_id"], r["entry_id"], r["rank"]) for r in rows if r["event"] == "picked"}
    assert picked == {(1, "a", 1), (2, "y", 2)}  # ranks read from what each message was shown
    assert {(r["message_id"], r["entry_id"]) for r in rows if r["event"] == "ignored"} == {(1, "b"), (2, "x")}


def test_a_reply_that_names_nothing_answers_every_waiting_message() -> None:
    assert _reply().answered([3, 4]) == [3, 4]
    assert _reply(message_id=9).answered([3, 4]) == [9]
    assert _reply(answers=(4, 3), parts={5: "a"}).answered([1]) == [4, 3, 5]
    rows = feedback_rows("c1", _reply(), [], [], {}, ARRIVED)  # typed from scratch, nothing waiting
    assert [(r["event"], r["message_id"], r["entry_id"], r["wait_ms"]) for r in rows] == [("sent", None, None, None)]
