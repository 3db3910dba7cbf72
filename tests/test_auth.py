"""Roles, sessions, CSRF and API tokens on a real `bot serve` (the session's server, its SQLite file)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from bot.auth import AuthError, AuthStore

from live_server import ACCOUNTS, api, logged_in, run_in_own_loop

PROJECT = Path(__file__).resolve().parents[1]
BOT = str(Path(sys.executable).parent / "bot")


def test_anonymous_callers_are_sent_to_log_in(server) -> None:  # type: ignore[no-untyped-def]
    base = server["base"]
    for page in ("/agent", "/editor", "/customer"):
        response = requests.get(base + page, allow_redirects=False, timeout=30)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next="), page
    for path in ("/api/suggest?q=%E5%8C%85%E9%82%AE%E5%90%97", "/api/conversations", "/api/kb/entries", "/api/me"):
        status, body = api(base, path, token=None)
        assert status == 401 and body["error"], path
    assert api(base, "/api/health", token=None)[0] == 200  # for load balancers


def test_each_role_gets_what_it_may_and_nothing_more(server) -> None:  # type: ignore[no-untyped-def]
    base = server["base"]
    agent, editor = logged_in(base, "agent1"), logged_in(base, "alice")
    assert agent.get(base + "/agent", timeout=30).status_code == 200
    assert agent.get(base + "/api/suggest", params={"q": "包邮吗"}, timeout=30).status_code == 200
    forbidden = agent.get(base + "/editor", allow_redirects=False, timeout=30)
    assert forbidden.status_code == 403 and "没有权限" in forbidden.text and "agent1" in forbidden.text
    denied = agent.post(base + "/api/kb/entries", json={"intent": "price", "questions": ["x"], "answer": "y"}, timeout=30)
    assert denied.status_code == 403 and "agent role" in denied.json()["error"]
    assert agent.get(base + "/api/users", timeout=30).status_code == 403
    assert editor.get(base + "/editor", timeout=30).status_code == 200
    assert editor.get(base + "/api/kb/entries", timeout=30).status_code == 200
    assert editor.get(base + "/api/users", timeout=30).status_code == 403
    admin = logged_in(base, "admin")
    users = admin.get(base + "/api/users", timeout=30).json()["users"]
    assert {u["name"]: u["role"] for u in users}["alice"] == "editor" and all("password" not in str(u) for u in users)
    me = editor.get(base + "/api/me", timeout=30).json()
    assert (me["name"], me["role"], me["via"]) == ("alice", "editor", "session")


def test_cookies_are_httponly_and_samesite_and_state_changes_need_the_csrf_token(server) -> None:  # type: ignore[no-untyped-def]
    base = server["base"]
    session = requests.Session()
    form = session.get(base + "/login", timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    response = session.post(base + "/login", data={"name": "agent1", "password": ACCOUNTS["agent1"][1], "csrf": csrf}, allow_redirects=False, timeout=30)
    cookies = response.raw.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("kefu_session="))
    csrf_cookie = next(c for c in cookies if c.startswith("kefu_csrf="))
    assert "httponly" in session_cookie.lower() and "samesite=strict" in session_cookie.lower() and "Path=/" in session_cookie
    assert "httponly" not in csrf_cookie.lower() and "samesite=strict" in csrf_cookie.lower(), "the pages' scripts read the CSRF cookie"
    body = {"text": "包邮吗"}
    without = session.post(base + "/api/conversations/csrf-1/messages", json=body, timeout=30)
    assert without.status_code == 403 and "CSRF" in without.json()["error"]
    wrong = session.post(base + "/api/conversations/csrf-1/messages", json=body, headers={"X-CSRF-Token": "guess"}, timeout=30)
    assert wrong.status_code == 403
    right = session.post(base + "/api/conversations/csrf-1/messages", json=body, headers={"X-CSRF-Token": session.cookies["kefu_csrf"]}, timeout=30)
    assert right.status_code == 201
    assert api(base, "/api/conversations/csrf-1/messages", token=None)[0] == 401


def test_login_refuses_wrong_passwords_and_forged_forms_and_logout_ends_the_session(server) -> None:  # type: ignore[no-untyped-def]
    base = server["base"]
    session = requests.Session()
    form = session.get(base + "/login", timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    wrong = session.post(base + "/login", data={"name": "alice", "password": "not-her-password", "csrf": csrf}, allow_redirects=False, timeout=30)
    assert wrong.status_code == 401 and "kefu_session" not in session.cookies and "账号或密码不对" in wrong.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', wrong.text).group(1)  # type: ignore[union-attr]  # each form has its own
    unknown = session.post(base + "/login", data={"name": "nobody", "password": "whatever-123", "csrf": csrf}, allow_redirects=False, timeout=30)
    assert unknown.status_code == 401 and "kefu_session" not in session.cookies
    forged = requests.post(base + "/login", data={"name": "alice", "password": ACCOUNTS["alice"][1], "csrf": "x"}, allow_redirects=False, timeout=30)
    assert forged.status_code == 403 and "kefu_session" not in forged.cookies
    form = session.get(base + "/login", params={"next": "//evil.example/x"}, timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    offsite = session.post(base + "/login", data={"name": "alice", "password": ACCOUNTS["alice"][1], "csrf": csrf, "next": "//evil.example/x"}, allow_redirects=False, timeout=30)
    assert offsite.status_code == 303 and offsite.headers["location"] == "/editor", "never redirected off the site"
    escaped = logged_in(base, "alice")
    assert escaped.get(base + "/api/me", timeout=30).status_code == 200
    assert escaped.post(base + "/logout", timeout=30).status_code == 200
    escaped.cookies.clear()
    assert escaped.get(base + "/api/me", timeout=30).status_code == 401


def test_an_integration_token_reaches_the_conversation_api_only(server) -> None:  # type: ignore[no-untyped-def]
    base, store = server["base"], AuthStore(server["db"])
    token = store.add_token("chat-platform", "integration")
    status, body = api(base, "/api/conversations/tok-1/messages", {"text": "是正品吗"}, token=token)
    assert status == 201 and body["suggestion"]["suggestions"]
    assert api(base, "/api/suggest?q=%E5%8C%85%E9%82%AE%E5%90%97", token=token)[0] == 200
    status, body = api(base, "/api/kb/entries", token=token)
    assert status == 403 and "integration role" in body["error"]
    assert api(base, "/api/kb/search?q=%E5%8C%85%E9%82%AE", token=token)[0] == 403
    page = requests.get(base + "/editor", headers={"Authorization": f"Bearer {token}"}, allow_redirects=False, timeout=30)
    assert page.status_code == 303, "tokens never open pages"
    assert api(base, "/api/suggest?q=%E5%8C%85%E9%82%AE%E5%90%97", token=token + "x")[0] == 401
    store.remove_token("chat-platform")
    assert api(base, "/api/suggest?q=%E5%8C%85%E9%82%AE%E5%90%97", token=token)[0] == 401, "a revoked token stops working at once"


def test_websockets_need_a_logged_in_page(server) -> None:  # type: ignore[no-untyped-def]
    import websockets

    ws_base = server["base"].replace("http://", "ws://")

    async def closed_code(headers: dict[str, str]) -> int | None:
        try:
            async with websockets.connect(ws_base + "/ws/agent", extra_headers=headers, open_timeout=10) as socket:
                await asyncio.wait_for(socket.recv(), timeout=5)
        except websockets.exceptions.InvalidStatusCode as exc:  # refused before the upgrade
            return exc.status_code
        except websockets.exceptions.ConnectionClosed as exc:
            return exc.code
        return None

    assert run_in_own_loop(closed_code({})) in (403, 1008)
    session = logged_in(server["base"], "agent1")
    cookie = f"kefu_session={session.cookies['kefu_session']}"
    assert run_in_own_loop(closed_code({"Cookie": cookie, "Origin": "http://evil.example"})) in (403, 1008)


def test_passwords_are_stored_as_argon2_hashes_and_weak_ones_refused(server) -> None:  # type: ignore[no-untyped-def]
    store = AuthStore(server["db"])
    with store.db.connect() as conn:
        hashes = dict(conn.execute(sa.text("SELECT name, password_hash FROM users")).all())
    assert hashes["alice"].startswith("$argon2id$") and ACCOUNTS["alice"][1] not in hashes["alice"]
    with pytest.raises(AuthError, match="8-1024"):
        store.add_user("dave", "agent", "short")
    with pytest.raises(AuthError, match="role"):
        store.add_user("dave", "superuser", "long-enough-1")
    with pytest.raises(AuthError, match="account names"):
        store.add_user("<script>", "agent", "long-enough-1")
    assert store.verify("alice", ACCOUNTS["alice"][1]) == "editor" and store.verify("alice", "nope-nope") is None


def test_a_fresh_install_makes_an_admin_and_bot_user_add_makes_accounts(tmp_path: Path, trained_model: Path) -> None:
    env = {**os.environ, "BOT_DATA_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    subprocess.run([BOT, "kb", "import"], cwd=PROJECT, env=env, check=True, capture_output=True, timeout=120)
    added = subprocess.run([BOT, "user", "add", "erin", "--role", "agent", "--password", "erin-pass-1"], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    assert added.returncode == 0, added.stderr
    weak = subprocess.run([BOT, "user", "add", "frank", "--role", "agent", "--password", "123"], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    assert weak.returncode != 0 and "8-1024" in weak.stderr
    listed = subprocess.run([BOT, "user", "list"], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    assert listed.stdout.split()[:2] == ["erin", "agent"]
    db = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    with AuthStore(db).db.begin() as conn:
        conn.execute(sa.text("DELETE FROM users"))
    from bot.server.client import free_port, wait_until_up

    port = free_port()
    process = subprocess.Popen([BOT, "serve", "--port", str(port), "--model", str(trained_model)], cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "Agent console" in line:
                break
        printed = "".join(lines)
        password = re.search(r"as\s+admin\s+with password\s+(\S+)", printed)
        assert password, printed
        assert f"http://127.0.0.1:{port}/login" in printed, "bound to loopback by default"
        assert AuthStore(db).verify("admin", password.group(1)) == "admin"
        wait_until_up(f"http://127.0.0.1:{port}/api/health", process, 60)
        _first_admin_chooses_a_password(f"http://127.0.0.1:{port}", password.group(1))
    finally:
        process.terminate()
        process.wait(timeout=60)


def _first_admin_chooses_a_password(base: str, printed: str) -> None:
    """The printed password opens only /password until the admin chose another; then everything opens."""
    session = requests.Session()
    csrf = re.search(r'name="csrf" value="([^"]+)"', session.get(base + "/login", timeout=30).text).group(1)  # type: ignore[union-attr]
    response = session.post(base + "/login", data={"name": "admin", "password": printed, "csrf": csrf}, allow_redirects=False, timeout=30)
    assert response.status_code == 303 and response.headers["location"] == "/password"
    session.headers["X-CSRF-Token"] = session.cookies["kefu_csrf"]
    assert session.get(base + "/agent", allow_redirects=False, timeout=30).headers["location"] == "/password"
    assert session.get(base + "/api/conversations", timeout=30).status_code == 403
    form = session.get(base + "/password", timeout=30)
    assert form.status_code == 200 and "设置新密码" in form.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    for fields, says in (({"current": printed, "new": printed, "confirm": printed}, "不同"),
                         ({"current": printed, "new": "new-admin-pass-1", "confirm": "new-admin-pass-2"}, "不一样"),
                         ({"current": "wrong-pass-123", "new": "new-admin-pass-1", "confirm": "new-admin-pass-1"}, "当前密码不对")):
        refused = session.post(base + "/password", data={**fields, "csrf": csrf}, allow_redirects=False, timeout=30)
        assert refused.status_code == 400 and says in refused.text, fields
    changed = session.post(base + "/password", data={"current": printed, "new": "new-admin-pass-1", "confirm": "new-admin-pass-1", "csrf": csrf},
                           allow_redirects=False, timeout=30)
    assert changed.status_code == 303 and changed.headers["location"] == "/agent"
    session.headers["X-CSRF-Token"] = session.cookies["kefu_csrf"]
    assert session.get(base + "/agent", allow_redirects=False, timeout=30).status_code == 200
    assert session.get(base + "/api/conversations", timeout=30).status_code == 200
    again = requests.Session()
    csrf = re.search(r'name="csrf" value="([^"]+)"', again.get(base + "/login", timeout=30).text).group(1)  # type: ignore[union-attr]
    assert again.post(base + "/login", data={"name": "admin", "password": printed, "csrf": csrf}, allow_redirects=False, timeout=30).status_code == 401
