"""Buyers' personal data: masked in what is stored (and so in what editors and analysts see), deleted after the
retention limit; the live console still shows the message as sent."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from bot.conversations import ConversationStore
from bot.db import feedback_table, messages_table, now
from bot.personal import mask_personal

from live_server import api


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("我的手机13812345678 收件人张三丰", "我的手机138****5678 收件人张**"),
        ("联系人王五电话138-1234-5678", "联系人王**电话138****5678"),
        ("收货人是李四", "收货人是李**"),
        ("身份证号11010519491231002X", "身份证号110105********002X"),
        ("退款到卡4111 1111 1111 1111", "退款到卡****1111"),
        ("寄到北京市朝阳区建国路88号3栋2单元501室", "寄到北京市朝阳区建国路*号*栋*单元*室"),
        ("座机 010-12345678", "座机 010-****"),
        ("我的邮箱是abc.d@qq.com", "我的邮箱是***@qq.com"),
    ],
)
def test_personal_data_is_masked(text: str, masked: str) -> None:
    assert mask_personal(text) == masked
    assert mask_personal(masked) == masked


@pytest.mark.parametrize("text", [
    "满99包邮吗", "明天10号能到吗", "买2件送1个", "我在18楼", "订单202312011234567什么时候发", "3号发货吗", "不知道15号能到吗",
    "我这里28号搬家", "适用5座车", "收货人地址写错了", "名字写错了", "联系人电话改成新的", "订单号1234567890123456789",
    "快递单号 110105194912310021 查不到",
])
def test_shopping_numbers_are_not_personal_data(text: str) -> None:
    assert mask_personal(text) == text


def test_the_store_keeps_messages_and_feedback_masked(tmp_path: Path) -> None:
    store = ConversationStore(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    message = store.add_message("pd-1", "customer", "改地址到建国路88号 电话13812345678")
    assert message.text == "改地址到建国路*号 电话138****5678"
    store.add_feedback([{"conversation_id": "pd-1", "message_id": message.id, "event": "sent", "final_text": "好的 已改为13812345678"}])
    assert store.feedback("pd-1")[0]["final_text"] == "好的 已改为138****5678"
    assert store.messages("pd-1")[0].text == message.text


def _age(store: ConversationStore, conversation_id: str, days: float) -> None:
    old = now() - timedelta(days=days)
    with store.db.begin() as conn:
        conn.execute(messages_table.update().where(messages_table.c.conversation_id == conversation_id).values(created_at=old))
        conn.execute(feedback_table.update().where(feedback_table.c.conversation_id == conversation_id).values(created_at=old))
        conn.execute(sa.text("UPDATE conversations SET updated_at = :old WHERE id = :id"), {"old": old, "id": conversation_id})


def test_bot_db_prune_deletes_what_is_past_the_retention_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli import cli

    url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    store = ConversationStore(url)
    for conversation_id, age in (("old-1", 200), ("new-1", 2)):
        message = store.add_message(conversation_id, "customer", "包邮吗")
        store.add_message(conversation_id, "agent", "亲,满99包邮哦")
        store.add_feedback([{"conversation_id": conversation_id, "message_id": message.id, "event": "shown", "entry_id": "x", "rank": 1}])
        _age(store, conversation_id, age)
    result = CliRunner().invoke(cli, ["db", "prune", "--db", url])  # bot.yml: retention.days 180
    assert result.exit_code == 0, result.output
    assert "deleted 1 conversations, 2 messages, 1 feedback rows" in result.output
    assert [c["id"] for c in store.conversations()] == ["new-1"]
    assert len(store.messages("new-1")) == 2 and store.messages("old-1") == [] and {r["conversation_id"] for r in store.feedback()} == {"new-1"}
    result = CliRunner().invoke(cli, ["db", "prune", "--days", "1", "--db", url])
    assert result.exit_code == 0 and store.conversations() == []


def test_the_console_sees_the_message_as_sent_and_the_database_keeps_it_masked(server) -> None:  # type: ignore[no-untyped-def]
    base = server["base"]
    status, body = api(base, "/api/conversations/pd-live/messages", {"text": "帮我改下电话 13812345678"})
    assert status == 201 and body["message"]["text"] == "帮我改下电话 13812345678"
    status, body = api(base, "/api/conversations/pd-live/messages")
    assert [m["text"] for m in body["messages"]] == ["帮我改下电话 138****5678"]
    assert ConversationStore(server["db"]).messages("pd-live")[0].text == "帮我改下电话 138****5678"
