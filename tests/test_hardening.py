"""Hostile requests on a real `bot serve`: nothing stalls the server, logins are throttled, feedback cannot be forged,
responses carry security headers, cookies follow TLS, files are private."""

from __future__ import annotations

import re
import stat
import threading
from pathlib import Path

import requests

from bot.server.throttle import FailureWindow

from live_server import ACCOUNTS, TOKENS, api, logged_in, run_in_own_loop


def _headers(base: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[base]}", "Content-Type": "application/json"}


def test_the_heaviest_replies_leave_health_and_suggestions_answering(server) -> None:  # type: ignore[no-untyped-def]
    """Replies of the longest text against the longest suggestion, from several clients at once, used to run a
    pure-Python edit distance on the event loop (seconds each); meanwhile every other request waited."""
    base = server["base"]
    status, body = api(base, "/api/conversations/heavy-1/messages", {"text": "包邮吗"})
    assert status == 201
    message_id = body["message"]["id"]
    text, suggested = "好" * 3999 + "的", "的" + "好" * 3999
    over = api(base, "/api/conversations/heavy-1/replies", {"text": "好的", "suggested_text": "a" * 20_000, "entry_id": "x", "message_id": message_id})
    assert over[0] == 422 and "limit is 4000" in over[1]["error"]
    results: list[int] = []

    def hammer() -> None:
        for _ in range(3):
            payload = {"text": text, "suggested_text": suggested, "entry_id": "shipping_fee.free_threshold", "rank": 1, "message_id": message_id}
            results.append(requests.post(base + "/api/conversations/heavy-1/replies", json=payload, headers=_headers(base), timeout=300).status_code)

    threads = [threading.Thread(target=hammer) for _ in range(6)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(10):  # each must answer while the replies are being stored (a stalled loop answers none)
            assert requests.get(base + "/api/health", timeout=10).status_code == 200
            assert requests.get(base + "/api/suggest", params={"q": "今天发货吗"}, headers=_headers(base), timeout=10).status_code == 200
    finally:
        for thread in threads:
            thread.join()
    assert results == [201] * 18
    status, body = api(base, "/api/conversations/heavy-1/messages")
    assert status == 200 and sum(m["role"] == "agent" for m in body["messages"]) == 18


def test_feedback_names_a_message_of_its_own_conversation_and_checks_its_text(server) -> None:  # type: ignore[no-untyped-def]
    base = server["base"]
    mine = api(base, "/api/conversations/fb-mine/messages", {"text": "包邮吗"})[1]["message"]["id"]
    theirs = api(base, "/api/conversations/fb-theirs/messages", {"text": "是正品吗"})[1]["message"]["id"]
    forged = api(base, "/api/feedback", {"conversation_id": "fb-mine", "message_id": theirs, "event": "sent", "final_text": "好的"})
    assert forged[0] == 404 and "no message" in forged[1]["error"]
    assert api(base, "/api/feedback", {"conversation_id": "fb-nobody", "event": "shown"})[0] == 404
    bad_text = api(base, "/api/feedback", {"conversation_id": "fb-mine", "message_id": mine, "event": "sent", "final_text": "好的\x07"})
    assert bad_text[0] == 422 and "control character" in bad_text[1]["error"]
    too_long = api(base, "/api/feedback", {"conversation_id": "fb-mine", "message_id": mine, "event": "sent", "final_text": "好" * 5000})
    assert too_long[0] == 422
    assert api(base, "/api/feedback", {"conversation_id": "fb-mine", "message_id": mine, "event": "sent", "final_text": "亲,满99包邮哦"})[0] == 201
    big_rank = api(base, "/api/feedback", {"conversation_id": "fb-mine", "message_id": mine, "event": "shown", "rank": 3_000_000_000})
    assert big_rank[0] == 400 and "'rank' must be from 1 to 1000" in big_rank[1]["error"], "an int4 column on PostgreSQL"
    reply = api(base, "/api/conversations/fb-mine/replies", {"text": "您好", "message_id": theirs})
    assert reply[0] == 404, "a reply cannot claim another conversation's message either"


def test_a_number_of_thousands_of_digits_is_a_400_not_a_500(server) -> None:  # type: ignore[no-untyped-def]
    base = server["base"]
    body = b'{"conversation_id": "big-int", "event": "shown", "message_id": ' + b"9" * 5000 + b"}"
    response = requests.post(base + "/api/feedback", data=body, headers=_headers(base), timeout=30)
    assert response.status_code == 400 and "number too long" in response.json()["error"]


def _attempt(base: str, name: str, password: str, address: str) -> requests.Response:
    """One login through the form, as a client at `address` (the loopback proxy's X-Forwarded-For, which uvicorn trusts)."""
    session = requests.Session()
    session.headers["X-Forwarded-For"] = address
    form = session.get(base + "/login", timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    return session.post(base + "/login", data={"name": name, "password": password, "csrf": csrf}, allow_redirects=False, timeout=30)


def test_logins_are_throttled_per_account_and_per_address(server) -> None:  # type: ignore[no-untyped-def]
    base = server["base"]
    for i in range(5):
        assert _attempt(base, "erin", f"wrong-{i}-password", "198.51.100.1").status_code == 401
    locked = _attempt(base, "erin", ACCOUNTS["erin"][1], "198.51.100.2")  # the right password, from elsewhere: still waits
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0 and "分钟后再试" in locked.text
    assert _attempt(base, "alice", ACCOUNTS["alice"][1], "198.51.100.1").status_code == 303, "other accounts are not locked"
    for i in range(20):  # one address guessing across many names
        assert _attempt(base, f"guess{i}", "whatever-123", "203.0.113.9").status_code == 401
    assert _attempt(base, "bob", ACCOUNTS["bob"][1], "203.0.113.9").status_code == 429
    assert _attempt(base, "bob", ACCOUNTS["bob"][1], "203.0.113.10").status_code == 303


def test_the_failure_window_forgets_old_failures() -> None:
    now = [1000.0]
    window = FailureWindow(limit=3, window=60, clock=lambda: now[0])
    for _ in range(3):
        window.fail("a")
    assert window.retry_after("a") == 60 and window.retry_after("b") == 0
    now[0] += 59.5
    assert window.retry_after("a") == 1
    now[0] += 1
    assert window.retry_after("a") == 0
    window.fail("a")
    window.clear("a")
    assert window.retry_after("a") == 0


def test_a_burst_of_guesses_gets_no_more_tries_than_one_at_a_time() -> None:
    """Attempts are counted before the password is hashed: ten sent at once, before any answer, get five tries."""
    from bot.server.throttle import LoginThrottle

    throttle = LoginThrottle(per_account=5, per_address=20, window_s=900, clock=lambda: 1000.0)
    waits = [throttle.attempt("erin", f"203.0.113.{i}") for i in range(10)]
    assert waits[:5] == [0] * 5 and all(w > 0 for w in waits[5:])
    throttle.succeeded("someone", "198.51.100.7")  # a right password takes back its address's count
    assert [throttle.attempt(f"name{i}", "198.51.100.8") for i in range(21)][-1] > 0
    assert throttle.attempt("Erin", "203.0.113.99") == 0, "names are case-sensitive accounts"


def test_every_response_carries_security_headers(server) -> None:  # type: ignore[no-untyped-def]
    base = server["base"]
    for path in ("/login", "/api/health", "/static/console.css", "/agent"):
        response = requests.get(base + path, allow_redirects=False, timeout=30)
        policy = response.headers.get("content-security-policy", "")
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy, path
        assert response.headers.get("x-content-type-options") == "nosniff", path


def test_cookies_are_secure_when_the_request_came_over_tls(server) -> None:  # type: ignore[no-untyped-def]
    base = server["base"]

    def cookies(proto: str | None) -> str:
        headers = {"X-Forwarded-Proto": proto} if proto else {}
        session = requests.Session()
        form = session.get(base + "/login", timeout=30)  # the form's own cookie over plain HTTP, so the client sends it back
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
        response = session.post(base + "/login", data={"name": "carol", "password": ACCOUNTS["carol"][1], "csrf": csrf},
                                headers=headers, allow_redirects=False, timeout=30)
        assert response.status_code == 303
        return response.headers["set-cookie"]

    over_tls = cookies("https")
    assert over_tls.count("Secure") >= 2 and "kefu_session" in over_tls
    assert "Secure" not in cookies(None)


def test_the_database_and_its_folder_are_private(server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from bot.kb.store import KBStore

    db_file = Path(server["db"].removeprefix("sqlite:///"))
    assert stat.S_IMODE(db_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(db_file.parent.stat().st_mode) == 0o700
    fresh = tmp_path / "new" / "var" / "bot.sqlite3"
    KBStore(f"sqlite:///{fresh}").load()
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600 and stat.S_IMODE(fresh.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700


def test_open_pages_are_closed_when_their_session_ends(server) -> None:  # type: ignore[no-untyped-def]
    """After logout or the account's removal, its open console stops receiving buyers' messages (closed with 1008);
    the pages of other sessions stay open."""
    import asyncio
    import json

    import websockets

    from bot.auth import AuthStore

    base = server["base"]
    ws_agent = base.replace("http://", "ws://") + "/ws/agent"
    AuthStore(server["db"]).add_user("frank", "agent", "frank-pass-123")
    leaving, staying, removed = logged_in(base, "agent1"), logged_in(base, "agent1"), logged_in(base, "frank", "frank-pass-123")

    def cookie(session: requests.Session) -> dict[str, str]:
        return {"Cookie": f"kefu_session={session.cookies['kefu_session']}"}

    async def closed_within(socket, seconds: float) -> int | None:  # type: ignore[no-untyped-def]
        try:
            while True:
                await asyncio.wait_for(socket.recv(), timeout=seconds)
        except websockets.exceptions.ConnectionClosed as exc:
            return exc.code
        except asyncio.TimeoutError:
            return None

    async def scenario() -> None:
        async with websockets.connect(ws_agent, extra_headers=cookie(leaving)) as first, \
                websockets.connect(ws_agent, extra_headers=cookie(staying)) as second, \
                websockets.connect(ws_agent, extra_headers=cookie(removed)) as third:
            await asyncio.sleep(0.3)
            assert api(base, "/api/conversations/ws-ends/messages", {"text": "包邮吗"})[0] == 201
            for socket in (first, second, third):
                assert json.loads(await asyncio.wait_for(socket.recv(), timeout=30))["type"] == "customer_message"
            assert leaving.post(base + "/logout", timeout=30).status_code == 200
            AuthStore(server["db"]).remove_user("frank")
            assert await closed_within(first, 3) == 1008
            assert await closed_within(third, 3) == 1008
            assert api(base, "/api/conversations/ws-ends/messages", {"text": "今天发货吗"})[0] == 201
            assert json.loads(await asyncio.wait_for(second.recv(), timeout=30))["type"] == "customer_message"

    run_in_own_loop(scenario())


def test_every_list_endpoint_pages(server) -> None:  # type: ignore[no-untyped-def]
    base = server["base"]
    status, first = api(base, "/api/kb/entries?limit=10")
    assert status == 200 and len(first["entries"]) == 10 and first["next_offset"] == 10 and first["count"] > 80
    status, last = api(base, f"/api/kb/entries?limit=10&offset={first['count'] - 3}")
    assert len(last["entries"]) == 3 and last["next_offset"] is None
    assert not {e["id"] for e in first["entries"]} & {e["id"] for e in last["entries"]}
    for bad in ("limit=0", "limit=abc", "limit=501", "offset=-1"):
        status, body = api(base, f"/api/kb/entries?{bad}")
        assert status == 400 and ("'limit'" in body["error"] or "'offset'" in body["error"]), bad

    ids = [api(base, "/api/conversations/paged-1/messages", {"text": f"第{i}个问题 包邮吗"})[1]["message"]["id"] for i in range(5)]
    status, page = api(base, "/api/conversations/paged-1/messages?limit=2")
    assert [m["id"] for m in page["messages"]] == ids[-2:] and page["next_before"] == ids[-2]
    status, page = api(base, f"/api/conversations/paged-1/messages?limit=2&before={page['next_before']}")
    assert [m["id"] for m in page["messages"]] == ids[1:3] and page["next_before"] == ids[1]
    status, page = api(base, f"/api/conversations/paged-1/messages?limit=2&before={ids[1]}")
    assert [m["id"] for m in page["messages"]] == ids[:1] and page["next_before"] is None

    api(base, "/api/conversations/paged-2/messages", {"text": "是正品吗"})
    status, one = api(base, "/api/conversations?limit=1")
    assert status == 200 and len(one["conversations"]) == 1 and one["next_offset"] == 1 and one["count"] >= 2
    status, two = api(base, "/api/conversations?limit=1&offset=1")
    assert two["conversations"][0]["id"] != one["conversations"][0]["id"]
    for n, text in enumerate(["epfJBd0Kh8oO", "这个呢"]):  # messages the engine abstains on, unlike each other
        api(base, f"/api/conversations/paged-missed-{n}/messages", {"text": text})
    status, every = api(base, "/api/traffic/clusters?limit=200")
    assert status == 200 and every["count"] >= 2 and every["next_after"] is None
    status, one = api(base, f"/api/traffic/clusters?limit=1&snapshot={every['snapshot']}")
    for n in range(3):  # after the first page: a new group, which this snapshot does not see
        api(base, f"/api/conversations/paged-missed-late-{n}/messages", {"text": "龘靐齉"})
    status, two = api(base, f"/api/traffic/clusters?limit=1&snapshot={one['snapshot']}&after={one['next_after']}")
    assert status == 200 and two["snapshot"] == one["snapshot"] == every["snapshot"]
    assert [c["key"] for c in one["clusters"] + two["clusters"]] == [c["key"] for c in every["clusters"][:2]]
    status, later = api(base, "/api/traffic/clusters?limit=200")
    assert [[m["text"] for m in c["messages"]] for c in later["clusters"]].count(["龘靐齉"] * 3) == 1 and later["count"] == every["count"] + 1
    assert not any(m["text"] == "龘靐齉" for c in every["clusters"] + two["clusters"] for m in c["messages"])
    for bad in ("offset=1", "snapshot=x", "snapshot=1.2", "snapshot=1.2.-3", "after=3.5", "after=3.x&snapshot=1.2.3", "after=.5", "limit=201"):
        status, body = api(base, f"/api/traffic/clusters?{bad}")
        assert status == 400 and f"'{bad.split('=')[0]}'" in body["error"], bad
    status, users = api(base, "/api/users?limit=2")
    assert status == 200 and len(users["users"]) == 2 and users["users_page"]["next_offset"] == 2
