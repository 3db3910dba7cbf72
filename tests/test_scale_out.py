"""Scale-out: two `bot serve` processes on one real PostgreSQL share the KB, conversations and edits."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.parse
from pathlib import Path

from live_server import BOT, api, provision, start_server, stop_server
from pg_server import fresh_database

PROJECT = Path(__file__).resolve().parents[1]
ENGRAVING = {"intent": "product_info", "tags": ["刻字"], "questions": ["可以免费刻字吗", "刻字要加钱吗"], "answer": "亲,支持免费刻字哦,下单时在备注里写上想刻的内容就可以啦~"}


def _suggested(base: str, text: str) -> list[str]:
    status, body = api(base, "/api/suggest?q=" + urllib.parse.quote(text))
    assert status == 200, body
    return [s["id"] for s in body["suggestions"]]


def _live_events_on(base: str, conversation_id: str, act) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    """Open an agent console and a customer page on `base` (logged in as agent1), run `act`, collect what both receive."""
    import asyncio
    import json

    import websockets

    from live_server import logged_in, run_in_own_loop

    session = logged_in(base, "agent1")
    headers = {"Cookie": f"kefu_session={session.cookies['kefu_session']}"}
    ws = base.replace("http://", "ws://")

    async def collect() -> list[tuple[str, dict]]:
        got: list[tuple[str, dict]] = []
        async with websockets.connect(ws + "/ws/agent", extra_headers=headers, max_size=None) as agent, \
                websockets.connect(ws + f"/ws/customer/{conversation_id}", extra_headers=headers, max_size=None) as customer:
            await asyncio.sleep(0.3)
            for status, body in await asyncio.get_running_loop().run_in_executor(None, act):
                assert status == 201, body
            for where, socket, count in (("agent", agent, 2), ("customer", customer, 1)):
                for _ in range(count):
                    got.append((where, json.loads(await asyncio.wait_for(socket.recv(), timeout=5))))
        return got

    return run_in_own_loop(collect())  # type: ignore[no-any-return]


def test_two_servers_on_one_postgresql_see_each_others_edits_within_seconds(postgres_url: str, trained_model: Path, tmp_path: Path) -> None:
    db = fresh_database(postgres_url, "scale_out")
    env = {**os.environ, "BOT_DATA_DIR": str(tmp_path / "a"), "BOT_DB": db, "HF_HUB_OFFLINE": "1"}
    subprocess.run([BOT, "kb", "import"], cwd=PROJECT, env=env, check=True, capture_output=True, timeout=120)
    token = provision(db)
    servers = []
    try:
        for name in ("a", "b"):
            servers.append(start_server(tmp_path / name, trained_model, tmp_path / f"{name}.log", db=db, token=token))
        (_, a), (_, b) = servers
        assert "shipping_fee.free_threshold" in _suggested(b, "包邮吗")

        status, created = api(a, "/api/kb/entries", ENGRAVING)
        assert status == 201, created
        entry_id, version = created["entry"]["id"], created["entry"]["version"]
        assert entry_id not in _suggested(b, "能刻字吗"), "a draft is not suggested"
        started = time.monotonic()
        status, approved = api(a, f"/api/kb/entries/{entry_id}/approve", {"base_version": version})
        assert status == 200, approved
        assert entry_id in _suggested(a, "能刻字吗"), "the server that approved has it at once"
        while entry_id not in _suggested(b, "能刻字吗"):
            assert time.monotonic() - started < 5, "the other server did not pick up the approval within 5 s"
            time.sleep(0.1)
        print(f"approval on one server reached the other's suggestions in {time.monotonic() - started:.2f} s")

        # A stale save through the other server is a conflict, not a silent overwrite.
        status, edited = api(a, f"/api/kb/entries/{entry_id}", {**ENGRAVING, "answer": "亲,支持免费刻字(甲)", "base_version": approved["entry"]["version"]}, method="PUT")
        assert status == 200, edited
        status, conflict = api(b, f"/api/kb/entries/{entry_id}", {**ENGRAVING, "answer": "亲,支持免费刻字(乙)", "base_version": approved["entry"]["version"]}, method="PUT")
        assert status == 409, conflict

        # Conversations are shared too: a buyer message taken by one process is in the other's console.
        status, posted = api(b, "/api/conversations/pg-chat/messages", {"text": "是正品吗"})
        assert status == 201
        status, history = api(a, "/api/conversations/pg-chat/messages")
        assert status == 200 and [m["text"] for m in history["messages"]] == ["是正品吗"]
        status, _ = api(a, "/api/conversations/pg-chat/replies", {"text": "亲,保证正品哦", "message_id": posted["message"]["id"], "entry_id": "authenticity.genuine"})
        assert status == 201

        # Any process serves any shop: a shop added while both run, a conversation begun on A and carried on on B.
        from dataclasses import replace

        from bot import shops
        from bot.intents import load_intents
        from bot.kb.files import read_kb
        from bot.kb.store import KBStore

        seed = read_kb(PROJECT / "kb", load_intents(PROJECT))
        north = KBStore(db, "north")
        shops.add(north.db, "north", {**seed.shop, "free_shipping_threshold": "59"})
        north.replace_all(replace(seed, shop={**seed.shop, "free_shipping_threshold": "59"}))
        status, first = api(a, "/api/conversations/pg-north/messages", {"text": "包邮吗", "shop": "north"})
        assert status == 201 and "满59" in first["suggestion"]["suggestions"][0]["text"], first
        status, later = api(b, "/api/conversations/pg-north/messages", {"text": "满多少包邮"})
        assert status == 201 and later["shop"] == "north" and "满59" in later["suggestion"]["suggestions"][0]["text"], later

        # Live pages: a console and a customer page open on B see what is posted through A (LISTEN/NOTIFY).
        events = _live_events_on(b, "pg-live", lambda: [
            api(a, "/api/conversations/pg-live/messages", {"text": "今天能发货吗 " + "急" * 900}),
            api(a, "/api/conversations/pg-live/replies", {"text": "亲,今天16:30前下单当天发哦"}),
        ])
        assert [(where, e["type"]) for where, e in events] == [("agent", "customer_message"), ("agent", "agent_message"), ("customer", "agent_message")]
        assert events[0][1]["suggestion"]["suggestions"], "the whole event, suggestions too (more than a NOTIFY payload holds)"
    finally:
        for process, _ in servers:
            stop_server(process)
