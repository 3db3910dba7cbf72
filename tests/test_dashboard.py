"""The team lead's dashboard on a real server and real Chromium: known feedback rows on a day of their own give
hand-computed figures in the JSON, on the page and in `bot report`; editors see no per-agent figures."""

from __future__ import annotations

import csv
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.conversations import ConversationStore
from bot.db import conversations_table, messages_table
from bot.order import SHOP_TIME

from live_server import BOT, PROJECT, api, logged_in, login

A, B, C = "shipping_fee.free_threshold", "shipping_fee.fee_at_checkout", "shipping_fee.remote_areas"
R = "delivery_time.dispatch_time"  # taken five times and rewritten each time: the rewrite candidate
REWRITES = ["亲，今天下单明天就发哦"] * 3 + ["亲，明天发货，后天能到"] * 2


def write_known_day(db_url: str) -> str:
    """Nine buyer messages with their feedback on a shop-time day three days back (no other test writes there)."""
    shop_day = datetime.now(SHOP_TIME).date() - timedelta(days=3)
    noon = datetime(shop_day.year, shop_day.month, shop_day.day, 12) - SHOP_TIME.utcoffset(None)  # stored as UTC
    store = ConversationStore(db_url)
    conversation = f"dashboard-{shop_day}"
    with store.db.begin() as conn:
        conn.execute(conversations_table.insert().values(id=conversation, shop="default", created_at=noon, updated_at=noon))
        ids = [int(conn.execute(messages_table.insert().values(conversation_id=conversation, role="customer", text=f"问题{n}",
                                                                created_at=noon)).inserted_primary_key[0]) for n in range(1, 10)]
    rows: list[dict[str, Any]] = []

    def add(message: int, event: str, **fields: Any) -> None:
        at = noon + timedelta(milliseconds=fields.pop("after_ms", 0))
        rows.append({"conversation_id": conversation, "message_id": ids[message - 1], "event": event, "created_at": at, **fields})

    def shown(message: int, latency: float, entries: list[str], intent: str) -> None:
        for rank, entry in enumerate(entries, 1):
            add(message, "shown", entry_id=entry, rank=rank, score=0.8, intent=intent, latency_ms=latency if rank == 1 else None)

    def sent(message: int, agent: str, wait_s: int, intent: str, entry: str | None = None, rank: int | None = None) -> None:
        add(message, "sent", agent=agent, entry_id=entry, rank=rank, intent=intent, wait_ms=wait_s * 1000, final_text="亲~", after_ms=wait_s * 1000)

    shown(1, 10, [A, B, C], "shipping_fee")  # taken as it was
    add(1, "picked", entry_id=A, rank=1, agent="agent1")
    add(1, "ignored", entry_id=B, rank=2, agent="agent1")
    add(1, "ignored", entry_id=C, rank=3, agent="agent1")
    sent(1, "agent1", 10, "shipping_fee", A, 1)
    shown(2, 20, [A, B, C], "shipping_fee")  # the second taken, half rewritten
    add(2, "picked", entry_id=B, rank=2, agent="erin")
    add(2, "edited", entry_id=B, rank=2, agent="erin", edit_distance=10, suggested_chars=20, final_text="改过的")
    add(2, "ignored", entry_id=A, rank=1, agent="erin")
    add(2, "ignored", entry_id=C, rank=3, agent="erin")
    sent(2, "erin", 30, "shipping_fee", B, 2)
    add(3, "abstained", intent="product_info", latency_ms=30)  # nothing to suggest; answered by hand
    sent(3, "erin", 60, "product_info")
    shown(4, 40, [A, B, C], "shipping_fee")  # all three ignored
    for rank, entry in enumerate([A, B, C], 1):
        add(4, "ignored", entry_id=entry, rank=rank, agent="agent1")
    sent(4, "agent1", 20, "shipping_fee")
    for message, rewrite in zip(range(5, 10), REWRITES):  # R taken five times, 60 % rewritten each time
        shown(message, 50, [R], "delivery_time")
        add(message, "picked", entry_id=R, rank=1, agent="agent1")
        add(message, "edited", entry_id=R, rank=1, agent="agent1", edit_distance=12, suggested_chars=20, final_text=rewrite)
        sent(message, "agent1", 5, "delivery_time", R, 1)
    store.add_feedback(rows)
    return str(shop_day)


@pytest.fixture(scope="module")
def day(server: dict[str, str]) -> str:
    return write_known_day(server["db"])


def _figures(server: dict[str, str], query: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    return api(server["base"], f"/api/dashboard?{query}", **kwargs)


def test_the_json_gives_the_hand_computed_figures(server: dict[str, str], day: str) -> None:
    status, data = _figures(server, f"since={day}&until={day}")
    assert status == 200, data
    a = data["acceptance"]
    assert (a["answered"], a["from_suggestion"], a["rate"]) == (9, 7, 0.7778)
    assert [(r["rank"], r["count"]) for r in a["by_rank"]] == [(1, 6), (2, 1)]
    assert a["daily"] == [{"day": day, "answered": 9, "from_suggestion": 7, "rate": 0.7778}]
    assert {r["intent"]: (r["answered"], r["rate"]) for r in a["by_intent"]} == {
        "delivery_time": (5, 1.0), "shipping_fee": (3, 0.6667), "product_info": (1, 0.0)}
    e = data["edits"]
    assert (e["taken"], e["edited"], e["unedited"]) == (7, 6, 1)
    assert {b["bucket"]: b["count"] for b in e["histogram"] if b["count"]} == {"0": 1, "25–50%": 1, "50–75%": 5}
    entries = data["entries"]
    assert (entries["count"], entries["next_offset"]) == (4, None)
    assert [(r["entry_id"], r["shown"], r["taken"], r["taken_unedited"], r["mean_relative_edit"], r["ignored"]) for r in entries["items"]] == [
        (R, 5, 5, 0, 0.6, 0), (B, 3, 1, 0, 0.5, 2), (A, 3, 1, 1, 0.0, 2), (C, 3, 0, 0, None, 3)]
    [candidate] = data["rewrite_candidates"]
    assert candidate["entry_id"] == R and candidate["answer"]
    assert candidate["versions"] == [{"text": "亲，今天下单明天就发哦", "count": 3}, {"text": "亲，明天发货，后天能到", "count": 2}]
    c = data["coverage"]
    assert (c["messages"], c["abstained"], c["rate"]) == (9, 1, 0.1111)
    assert c["unanswered"] == [{"intent": "product_info", "count": 1, "examples": ["问题3"]}]
    s = data["speed"]
    assert s["wait"] == {"count": 9, "p50_ms": 5000.0, "p90_ms": 60000.0}
    assert s["suggest_latency"] == {"count": 9, "p50_ms": 50.0, "p95_ms": 50.0}
    assert {a["agent"]: (a["answered"], a["rate"], a["p50_ms"], a["p90_ms"]) for a in s["per_agent"]} == {
        "agent1": (7, 0.8571, 5000.0, 20000.0), "erin": (2, 0.5, 30000.0, 60000.0)}
    sorted_status, by_edit = _figures(server, f"since={day}&until={day}&sort=mean_relative_edit&limit=2&offset=1")
    assert sorted_status == 200 and [r["entry_id"] for r in by_edit["entries"]["items"]] == [B, A]
    assert (by_edit["entries"]["count"], by_edit["entries"]["next_offset"]) == (4, 3)


def test_editors_get_no_per_agent_figures_and_agents_no_dashboard(server: dict[str, str], day: str) -> None:
    editor = logged_in(server["base"], "alice").get(f"{server['base']}/api/dashboard?since={day}&until={day}", timeout=30)
    assert editor.status_code == 200
    assert editor.json()["per_agent"] is False and "per_agent" not in editor.json()["speed"]
    assert editor.json()["acceptance"]["answered"] == 9
    agent = logged_in(server["base"], "agent1").get(f"{server['base']}/api/dashboard", timeout=30)
    assert agent.status_code == 403


def test_bad_periods_get_a_clear_400(server: dict[str, str]) -> None:
    for query, words in [("since=yesterday", "'since' must be like"), ("since=2026-11-05&until=2026-11-01", "must come after"),
                         ("sort=best", "'sort' must be one of"), ("limit=0", "'limit'")]:
        status, data = _figures(server, query)
        assert status == 400 and words in data["error"], (query, data)


def _console_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _logged_in_page(browser: Any, server: dict[str, str], name: str) -> tuple[Any, Any, list[str]]:
    """A fresh browser context logged in as `name`: (context, page, the page's console errors)."""
    context = browser.new_context()
    page = context.new_page()
    errors = _console_errors(page)
    login(page, server["base"], name)
    return context, page, errors


def test_the_page_shows_the_figures_and_links_the_rewrite_candidate(server: dict[str, str], day: str, browser: Any) -> None:
    context, page, errors = _logged_in_page(browser, server, "admin")
    page.goto(f"{server['base']}/dashboard?since={day}&until={day}")
    page.wait_for_selector("#card-acceptance .value")
    assert page.inner_text("#card-acceptance .value") == "77.8%"
    assert "n = 9" in page.inner_text("#card-acceptance")
    assert page.inner_text("#card-abstained .value") == "11.1%"
    assert "5.0 秒 / 1.0 分钟" == page.inner_text("#card-wait .value")
    rewrite = page.locator("#rewrite .rewrite")
    assert rewrite.count() == 1
    assert "亲，今天下单明天就发哦" in rewrite.inner_text() and "(3 次)" in rewrite.inner_text()
    assert page.locator("#per-agent tr").count() == 3  # a header and two agents
    page.click("#entries th button[data-sort='ignored']")
    page.wait_for_selector("#entries th[aria-sort=descending] button[data-sort='ignored']")
    assert page.locator("#entries tbody tr").first.inner_text().startswith(C)
    page.locator(f"#rewrite a[href$='#/entry/{R}']").click()
    page.wait_for_url(f"**/editor#/entry/{R}")
    page.wait_for_selector("#view-entry:not([hidden])")
    assert errors == []
    context.close()


def test_an_editor_sees_no_per_agent_table_and_an_empty_range_says_no_data(server: dict[str, str], day: str, browser: Any) -> None:
    context, page, errors = _logged_in_page(browser, server, "alice")
    page.goto(f"{server['base']}/dashboard?since={day}&until={day}")
    page.wait_for_selector("#card-acceptance .value")
    assert page.inner_text("#card-acceptance .value") == "77.8%"
    assert page.locator("#per-agent").count() == 0 and "各客服" not in page.inner_text("#speed")
    page.goto(f"{server['base']}/dashboard?since=2020-01-01&until=2020-01-31")
    page.wait_for_selector("#acceptance .nodata")
    assert page.inner_text("#card-acceptance .value") == "—"
    assert page.locator(".nodata").count() >= 5
    assert errors == []
    context.close()


def test_bot_report_writes_the_csv_files_and_a_page_with_the_same_figures(server: dict[str, str], day: str, tmp_path: Path, browser: Any) -> None:
    out = tmp_path / "report"
    done = subprocess.run([BOT, "report", "--since", day, "--until", day, "--out", str(out), "--db", server["db"]],
                          cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with (out / "acceptance_daily.csv").open(encoding="utf-8-sig") as handle:
        assert list(csv.DictReader(handle)) == [{"day": day, "answered": "9", "from_suggestion": "7", "rate": "0.7778"}]
    with (out / "rewrite_candidates.csv").open(encoding="utf-8-sig") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["entry_id"] == R and row["versions"] == "亲，今天下单明天就发哦; 亲，明天发货，后天能到"
    with (out / "agents.csv").open(encoding="utf-8-sig") as handle:
        assert {r["agent"]: r["answered"] for r in csv.DictReader(handle)} == {"agent1": "7", "erin": "2"}
    page = browser.new_page()
    errors = _console_errors(page)
    page.goto((out / "report.html").as_uri())
    page.wait_for_selector("#card-acceptance .value")
    assert page.inner_text("#card-acceptance .value") == "77.8%"
    assert page.locator("#range").is_hidden() and page.locator("#rewrite .rewrite").count() == 1
    assert errors == []
    page.close()
    bad = subprocess.run([BOT, "report", "--since", "soon", "--out", str(tmp_path / "bad"), "--db", server["db"]],
                         cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "'since' must be like" in bad.stderr and not (tmp_path / "bad").exists()


def test_replies_through_the_api_record_the_agent_the_wait_and_the_suggest_time(server: dict[str, str]) -> None:
    base, conversation = server["base"], "dashboard-live-1"
    status, received = api(base, f"/api/conversations/{conversation}/messages", {"text": "包邮吗"})
    assert status == 201, received
    message_id, top = received["message"]["id"], received["suggestion"]["suggestions"][0]
    status, _ = api(base, f"/api/conversations/{conversation}/replies",
                    {"text": top["text"] + "哦", "message_id": message_id, "entry_id": top["id"], "rank": 1, "suggested_text": top["text"]})
    assert status == 201
    rows = {r["event"]: r for r in ConversationStore(server["db"]).feedback(conversation) if r["event"] != "shown" or r["rank"] == 1}
    assert rows["shown"]["latency_ms"] is not None and rows["shown"]["latency_ms"] > 0
    assert rows["sent"]["agent"] == "tests" and rows["sent"]["wait_ms"] is not None and rows["sent"]["intent"] == received["suggestion"]["intent"]["name"]
    assert rows["edited"]["suggested_chars"] == len(top["text"]) and rows["edited"]["edit_distance"] == 1


def test_postgres_gives_the_same_figures_as_sqlite(postgres_url: str, server: dict[str, str], day: str, tmp_path: Path) -> None:
    from bot.dashboard import dashboard, period_of
    from bot.db import connect
    from bot.kb.sync import import_kb
    from bot.settings import load_settings

    from pg_server import fresh_database

    url = fresh_database(postgres_url, "dashboard")
    import_kb(load_settings(PROJECT, data_dir=tmp_path, db_url=url))
    assert write_known_day(url) == day
    period = period_of(day, day)
    on_sqlite, on_postgres = (dashboard(connect(db), period, True) for db in (server["db"], url))
    assert on_postgres == on_sqlite
    assert on_postgres["rewrite_candidates"][0]["entry_id"] == R and on_postgres["acceptance"]["rate"] == 0.7778
