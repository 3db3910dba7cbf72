"""Many shops on one deployment: each shop answers from the common layer and its own entries, filled with its own
profile; an entry of one shop never reaches another; conversations belong to a shop; `bot shop` and `bot kb --shop`."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from bot import shops
from bot.index.storage import shop_index_dir
from bot.kb import Entry
from bot.kb.store import KBStore
from bot.kb.sync import import_kb
from bot.shop_engines import ShopEngines
from bot.suggest import Engine

from live_server import BOT, PROJECT, api

FREE_SHIPPING = "shipping_fee.free_threshold"
GENUINE = "authenticity.genuine_guarantee"


def _kb_with(tmp_path: Path, name: str, **facts: str) -> Path:
    """A copy of the seed kb/ whose profile (shop.yml) has these values instead."""
    target = tmp_path / name
    shutil.copytree(PROJECT / "kb", target)
    profile = target / "shop.yml"
    text = profile.read_text(encoding="utf-8")
    for key, value in facts.items():
        text, found = re.subn(rf'^{key}: .*$', f'{key}: "{value}"', text, flags=re.M)
        assert found == 1, key
    profile.write_text(text, encoding="utf-8")
    return target


def _profile(kb_dir: Path) -> dict[str, str]:
    from bot.kb.files import read_profile

    return read_profile(kb_dir / "shop.yml")


@pytest.fixture()
def platform(settings, engine, tmp_path: Path) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The seed KB as the common layer, and shops a (free shipping from 59) and b (from 129), in-process on SQLite."""
    common = KBStore(settings.db_url, shops.COMMON)
    import_kb(settings, store=common)
    shops.add(common.db, "shop-a", _profile(_kb_with(tmp_path, "a", free_shipping_threshold="59", shop_name="青禾家居")))
    shops.add(common.db, "shop-b", _profile(_kb_with(tmp_path, "b", free_shipping_threshold="129", shop_name="木森数码")))
    first = Engine(settings, None, KBStore(settings.db_url, "shop-a", common.db), engine.encoder, nlu=engine.nlu, vectors=engine.index)
    return {"common": common, "engines": ShopEngines(first), "settings": settings}


def _top(engines: ShopEngines, shop: str, message: str) -> Any:
    return engines.get(shop).suggest(message).suggestions[0]


def _approved(store: KBStore, entry: Entry, author: str = "test") -> None:
    record = store.record(entry.id)
    if record is None:
        record = store.create(entry, author)
    else:
        record = store.edit(entry.id, entry, record.version, author)
    store.approve(entry.id, record.version, author)


def test_each_shop_answers_from_the_common_layer_with_its_own_facts(platform, trained_model: Path) -> None:  # type: ignore[no-untyped-def]
    engines = platform["engines"]
    a, b = _top(engines, "shop-a", "包邮吗"), _top(engines, "shop-b", "包邮吗")
    assert a.id == b.id == FREE_SHIPPING
    assert "满59" in a.text and "满129" in b.text
    assert len(engines.get("shop-a").index) == len(engines.get("shop-b").index) == len(platform["common"].approved().entries)
    with pytest.raises(shops.ShopError, match="bot shop add"):
        engines.get("shop-c")
    # `bot suggest --shop` and any one-shop engine: the shop's own from the start
    alone = Engine.from_settings(platform["settings"], model_path=trained_model, shop="shop-b")
    assert "满129" in alone.suggest("包邮吗").suggestions[0].text
    with pytest.raises(shops.ShopError, match="no shop 'shop-c'"):
        Engine.from_settings(platform["settings"], model_path=trained_model, shop="shop-c")


def test_a_shops_own_entry_overrides_withdraws_and_never_reaches_another_shop(platform) -> None:  # type: ignore[no-untyped-def]
    engines, common = platform["engines"], platform["common"]
    store_a, store_b = common.for_shop("shop-a"), common.for_shop("shop-b")
    inherited = common.get(FREE_SHIPPING)
    # shop a: its own version of the free-shipping reply, and an entry only it has
    _approved(store_a, replace(inherited, answer="亲，本店满{free_shipping_threshold}元包邮，偏远地区除外哦~"))
    _approved(store_a, Entry("product_info.waterproof", "product_info", "draft", (), ("这款防水吗", "下雨天能用吗", "防不防水"), "亲，这款是IPX4级防水，日常下雨完全没问题哦~"))
    # shop b: withdraws the authenticity guarantee for itself; a draft of its own does not hide the common version
    genuine = store_b.create(replace(common.get(GENUINE), status="draft"), "test")
    assert GENUINE in store_b.live([GENUINE])
    store_b.approve(GENUINE, genuine.version, "test")
    store_b.retire(GENUINE, genuine.version + 1, "test")
    engines.catch_up()

    assert _top(engines, "shop-a", "包邮吗").text == "亲，本店满59元包邮，偏远地区除外哦~"
    assert "满129" in _top(engines, "shop-b", "包邮吗").text and "偏远地区除外" not in _top(engines, "shop-b", "包邮吗").text
    assert _top(engines, "shop-a", "这款防水吗").id == "product_info.waterproof"
    for message in ("这款防水吗", "下雨天能用吗", "防不防水"):
        assert "product_info.waterproof" not in [s.id for s in engines.get("shop-b").suggest(message).suggestions]
    assert "product_info.waterproof" not in {e.id for e in store_b.approved().entries}
    assert GENUINE not in {e.id for e in store_b.approved().entries}
    assert GENUINE in {e.id for e in store_a.approved().entries}
    assert GENUINE not in [s.id for s in engines.get("shop-b").suggest("是正品吗").suggestions]
    assert _top(engines, "shop-a", "是正品吗").id.startswith("authenticity.")
    # the common layer's own change reaches every shop that does not override it
    _approved(common, replace(common.get(GENUINE), answer="亲，我们保证正品，支持专柜验货哦~"))
    engines.catch_up()
    assert any(s.text == "亲，我们保证正品，支持专柜验货哦~" for s in engines.get("shop-a").suggest("是正品吗").suggestions)
    assert GENUINE not in [s.id for s in engines.get("shop-b").suggest("是正品吗").suggestions]


def test_shops_indexes_beyond_the_memory_budget_are_dropped_and_come_back(platform) -> None:  # type: ignore[no-untyped-def]
    engines: ShopEngines = platform["engines"]
    one_index = engines.first.index.memory_bytes
    engines.settings = replace(engines.settings, index=replace(engines.settings.index, memory_budget_mb=2.5 * one_index / 2**20))
    shops.add(platform["common"].db, "shop-c", {"free_shipping_threshold": "88"})
    engines.get("shop-b")
    engines.get("shop-c")
    assert engines.loaded() == ["shop-a", "shop-c"]  # b, least recently used, was dropped; the first engine stays
    for shop in ("shop-a", "shop-b", "shop-c"):  # each shop's index in its own folder: saving one never prunes another's
        folder = shop_index_dir(engines.settings, shop)
        assert [(d / "rows.json").exists() for d in folder.iterdir()] == [True], shop
    assert "满129" in _top(engines, "shop-b", "包邮吗").text  # loaded again on its next message
    assert engines.loaded() == ["shop-a", "shop-b"]


def _bot(*args: str, db: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BOT, *args, "--db", db], cwd=PROJECT, capture_output=True, text=True, timeout=300)


def test_bot_shop_and_kb_shop_commands(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'shops.sqlite3'}"
    kb_a = _kb_with(tmp_path, "a", free_shipping_threshold="59")
    assert _bot("kb", "import", "--shop", "common", db=db).returncode == 0
    added = _bot("shop", "add", "shop-a", "--profile", str(kb_a / "shop.yml"), db=db)
    assert added.returncode == 0 and "added shop shop-a" in added.stdout, added.stderr
    assert "exists already" in _bot("shop", "add", "shop-a", "--profile", str(kb_a / "shop.yml"), db=db).stderr
    assert "not a shop" in _bot("shop", "add", "common", "--profile", str(kb_a / "shop.yml"), db=db).stderr
    assert "lowercase" in _bot("shop", "add", "Shop A", "--profile", str(kb_a / "shop.yml"), db=db).stderr
    assert "no shop 'shop-z'" in _bot("kb", "list", "--shop", "shop-z", db=db).stderr

    imported = _bot("kb", "import", str(kb_a), "--shop", "shop-a", db=db)
    assert imported.returncode == 0, imported.stderr
    listed = _bot("shop", "list", db=db).stdout
    assert re.search(r"^shop-a\s+94 entries\s+0 conversations", listed, flags=re.M), listed
    assert "default" not in listed  # nothing was imported into the default shop
    own = _bot("kb", "show", FREE_SHIPPING, "--shop", "shop-a", db=db).stdout
    assert "{free_shipping_threshold}" in own
    exported = tmp_path / "out"
    assert _bot("kb", "export", str(exported), "--shop", "shop-a", db=db).returncode == 0
    assert 'free_shipping_threshold: "59"' in (exported / "shop.yml").read_text(encoding="utf-8")
    assert _bot("shop", "add", "shop-copy", "--profile", str(exported / "shop.yml"), db=db).returncode == 0
    assert _bot("kb", "import", str(exported), "--shop", "shop-copy", db=db).returncode == 0
    assert KBStore(db, "shop-copy").load() == KBStore(db, "shop-a").load()  # a shop's export and import are lossless
    assert "no shop" in _bot("kb", "import", str(kb_a), "--shop", "shop-q", db=db).stderr

    removed = _bot("shop", "remove", "shop-a", db=db)
    assert removed.returncode == 0 and "removed shop shop-a" in removed.stdout
    assert "shop-a" not in _bot("shop", "list", db=db).stdout
    assert KBStore(db, "shop-a").count() == 0 and KBStore(db, shops.COMMON).count() == 94


@pytest.fixture(scope="module")
def two_shops(server: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Shops a (free shipping from 59) and b (from 129) on the session's server, each with the seed KB as its own."""
    tmp_path = tmp_path_factory.mktemp("shops")
    for name, threshold in (("shop-a", "59"), ("shop-b", "129")):
        kb_dir = _kb_with(tmp_path, name, free_shipping_threshold=threshold)
        assert _bot("shop", "add", name, "--profile", str(kb_dir / "shop.yml"), db=server["db"]).returncode == 0
        assert _bot("kb", "import", str(kb_dir), "--shop", name, db=server["db"]).returncode == 0
    return server


def test_conversations_belong_to_their_shop_through_the_server(two_shops: dict[str, str]) -> None:
    base, db = two_shops["base"], two_shops["db"]

    answers = {}
    for conversation, shop in (("shops-a-1", "shop-a"), ("shops-b-1", "shop-b"), ("shops-default-1", None)):
        status, body = api(base, f"/api/conversations/{conversation}/messages", {"text": "包邮吗", **({"shop": shop} if shop else {})})
        assert status == 201, body
        assert body["shop"] == (shop or "default")
        answers[shop] = body["suggestion"]["suggestions"][0]
    assert {a["id"] for a in answers.values()} == {FREE_SHIPPING}
    assert "满59" in answers["shop-a"]["text"] and "满129" in answers["shop-b"]["text"] and "满99" in answers[None]["text"]

    # the conversation keeps its shop: later messages need not name it, and naming another is refused
    status, body = api(base, "/api/conversations/shops-b-1/messages", {"text": "满多少包邮"})
    assert status == 201 and body["shop"] == "shop-b" and "满129" in body["suggestion"]["suggestions"][0]["text"]
    status, body = api(base, "/api/conversations/shops-b-1/messages", {"text": "包邮吗", "shop": "shop-a"})
    assert status == 409 and "belongs to shop 'shop-b'" in body["error"]
    status, body = api(base, "/api/conversations/shops-z-1/messages", {"text": "包邮吗", "shop": "shop-z"})
    assert status == 422 and "no shop 'shop-z'" in body["error"]
    status, body = api(base, "/api/conversations/shops-z-1/messages", {"text": "包邮吗", "shop": "Shop Z"})
    assert status == 422 and "lowercase" in body["error"]
    assert api(base, "/api/conversations/shops-z-1/messages")[1]["messages"] == []  # nothing stored
    _, messages = api(base, "/api/conversations/shops-b-1/messages")
    assert len(messages["messages"]) == 2

    listed = {c["id"]: c["shop"] for c in api(base, "/api/conversations?limit=100")[1]["conversations"]}
    assert listed["shops-a-1"] == "shop-a" and listed["shops-b-1"] == "shop-b" and listed["shops-default-1"] == "default"
    status, found = api(base, f"/api/kb/search?q={quote('包邮')}&conversation_id=shops-a-1")
    assert status == 200 and any("满59" in r["text"] for r in found["results"])
    status, found = api(base, f"/api/suggest?q={quote('包邮吗')}&shop=shop-b")
    assert status == 200 and "满129" in found["suggestions"][0]["text"]

    # an approval in shop a's layer is live for shop a within a second, and never for shop b
    store_a = KBStore(db, "shop-a")
    record = store_a.create(Entry("product_info.waterproof", "product_info", "draft", (), ("这款防水吗", "防不防水"), "亲，这款是IPX4级防水哦~"), "test")
    store_a.approve(record.entry.id, record.version, "test")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        top = api(base, f"/api/suggest?q={quote('这款防水吗')}&conversation_id=shops-a-1")[1]["suggestions"]
        if top and top[0]["id"] == "product_info.waterproof":
            break
        time.sleep(0.2)
    else:
        pytest.fail("shop a's approved entry did not go live")
    assert "product_info.waterproof" not in [s["id"] for s in api(base, f"/api/suggest?q={quote('这款防水吗')}&shop=shop-b")[1]["suggestions"]]


def test_the_console_shows_each_conversations_shop_and_its_facts(browser, two_shops: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    from live_server import login

    base = two_shops["base"]
    context = browser.new_context(viewport={"width": 1400, "height": 860})
    errors: list[str] = []
    context.on("page", lambda page: page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None))
    agent = context.new_page()
    login(agent, base, "admin")  # serves every shop (agent1 serves only the default shop)
    agent.goto(base + "/agent")
    agent.wait_for_selector("body[data-connected=true]")
    customer = context.new_page()
    customer.goto(f"{base}/customer?shop=shop-b&c=shop-page-1")
    customer.wait_for_selector("body[data-connected=true]")
    assert "shop-b" in customer.locator("#title").inner_text()
    customer.fill("#text", "包邮吗")
    customer.press("#text", "Enter")

    button = agent.locator("#conversations button[data-id='shop-page-1']")
    button.wait_for()
    assert button.locator(".shop").inner_text() == "shop-b"
    button.click()
    agent.wait_for_selector("#intent-name:text('shipping_fee')")
    assert "店铺 shop-b" in agent.locator("#chat-title").inner_text()
    assert "满129" in agent.locator("#suggestions button").first.inner_text()
    agent.fill("#search", "包邮")
    agent.wait_for_selector("#results button")
    assert "满129" in agent.locator("#results button").first.inner_text()
    context.close()
    assert not errors, errors


@pytest.fixture(scope="module")
def scoped(two_shops: dict[str, str]) -> dict[str, Any]:
    """People and a token scoped to shops on the session's server: agent ann and editor ed serve shop a, an
    integration token serves shop b; a conversation in each shop."""
    from bot.auth import AuthStore

    auth = AuthStore(two_shops["db"])
    auth.add_user("ann", "agent", "ann-pass-123", shops=["shop-a"])
    auth.add_user("ed", "editor", "ed-pass-1234", shops=["shop-a"])
    token_b = auth.add_token("shop-b-platform", "integration", shops=["shop-b"])
    for conversation, shop in (("scope-a-1", "shop-a"), ("scope-b-1", "shop-b"), ("scope-default-1", "default")):
        status, body = api(two_shops["base"], f"/api/conversations/{conversation}/messages", {"text": "包邮吗", "shop": shop})
        assert status == 201, body
    return {**two_shops, "token_b": token_b}


def test_an_agent_reaches_only_the_conversations_of_its_shops(scoped: dict[str, Any]) -> None:
    from live_server import logged_in

    base = scoped["base"]
    ann = logged_in(base, "ann", "ann-pass-123")
    listed = ann.get(base + "/api/conversations?limit=200").json()
    shops_seen = {c["shop"] for c in listed["conversations"]}
    assert shops_seen == {"shop-a"} and "scope-a-1" in {c["id"] for c in listed["conversations"]}
    assert listed["count"] == len(listed["conversations"])  # counted among its shops only

    def status(method: str, path: str, body: Any = None) -> int:
        return ann.request(method, base + path, json=body, timeout=60).status_code

    q = quote("包邮吗")
    assert status("GET", "/api/conversations/scope-a-1/messages") == 200
    assert status("POST", "/api/conversations/scope-a-1/messages", {"text": "满多少包邮"}) == 201
    for method, path, body in (
        ("GET", "/api/conversations/scope-b-1/messages", None),
        ("POST", "/api/conversations/scope-b-1/messages", {"text": "包邮吗"}),
        ("POST", "/api/conversations/scope-new-b/messages", {"text": "包邮吗", "shop": "shop-b"}),
        ("POST", "/api/conversations/scope-new-default/messages", {"text": "包邮吗"}),  # ann does not serve the default shop
        ("POST", "/api/conversations/scope-b-1/replies", {"text": "亲，满129包邮哦"}),
        ("GET", "/api/conversations/scope-b-1/pending", None),
        ("POST", "/api/feedback", {"conversation_id": "scope-b-1", "event": "ignored"}),
        ("GET", f"/api/suggest?q={q}&shop=shop-b", None),
        ("GET", f"/api/suggest?q={q}&conversation_id=scope-b-1", None),
        ("GET", f"/api/kb/search?q={q}&conversation_id=scope-default-1", None),
        ("POST", "/api/check", {"text": "亲，在的", "conversation_id": "scope-b-1"}),
    ):
        assert status(method, path, body) == 403, (method, path)
    assert api(base, "/api/conversations/scope-new-b/messages")[1]["messages"] == []  # nothing was stored
    assert api(base, "/api/conversations/scope-new-default/messages")[1]["messages"] == []
    assert len(api(base, "/api/conversations/scope-b-1/messages")[1]["messages"]) == 1

    # an integration token serves its shop only
    token_b = scoped["token_b"]
    assert api(base, "/api/conversations/scope-b-1/messages", {"text": "几天到"}, token=token_b)[0] == 201
    assert api(base, "/api/conversations/scope-a-1/messages", {"text": "几天到"}, token=token_b)[0] == 403
    assert api(base, "/api/conversations/scope-b-2/messages", {"text": "几天到", "shop": "shop-a"}, token=token_b)[0] == 403


def test_an_editor_edits_only_its_shops_and_reads_the_common_layer(scoped: dict[str, Any]) -> None:
    from live_server import logged_in

    base = scoped["base"]
    ed = logged_in(base, "ed", "ed-pass-1234")
    assert ed.get(base + "/api/kb/entries?shop=shop-a&limit=5").status_code == 200
    assert ed.get(base + "/api/kb/entries?shop=shop-b&limit=5").status_code == 403
    assert ed.get(base + "/api/traffic/clusters?shop=shop-b").status_code == 403
    nlu = ed.post(base + "/api/kb/nlu?shop=shop-a")  # the Rasa project's training data is the default shop's
    assert nlu.status_code == 422 and "default shop" in nlu.json()["error"]
    every_shop = ed.get(base + "/api/traffic/clusters?shop=common")  # the common layer learns from every shop's buyers
    assert every_shop.status_code == 403 and "only an admin" in every_shop.json()["error"]
    meta = ed.get(base + "/api/kb/meta?shop=shop-a").json()
    assert meta["shops"] == ["shop-a", "common"] and meta["shop"]["free_shipping_threshold"] == "59"
    assert ed.get(base + "/api/kb/entries?shop=common&limit=5").status_code == 200
    record = KBStore(scoped["db"], shops.COMMON).record(FREE_SHIPPING)
    if record is not None:  # the session server has no common layer unless another test made one
        refused = ed.post(base + f"/api/kb/entries/{FREE_SHIPPING}/retire?shop=common", json={"base_version": record.version})
        assert refused.status_code == 403 and "only an admin" in refused.json()["error"]
    assert ed.post(base + "/api/kb/entries?shop=common", json={"intent": "price", "questions": ["有学生价吗"], "answer": "亲，暂时没有学生价哦~"}).status_code == 403
    created = ed.post(base + "/api/kb/entries?shop=shop-a", json={"intent": "price", "questions": ["有学生价吗", "学生有优惠吗"], "answer": "亲，学生凭学生证再减5元哦~",
                                                                       "allow_similar": True})  # "买得多有优惠吗" is near: not what this tests
    assert created.status_code == 201, created.text
    entry = created.json()["entry"]
    assert KBStore(scoped["db"], "shop-a").record(entry["id"]) is not None
    assert KBStore(scoped["db"], "shop-b").record(entry["id"]) is None
    assert ed.post(base + f"/api/kb/entries/{entry['id']}/approve?shop=shop-b", json={"base_version": entry["version"]}).status_code == 403
    assert ed.post(base + f"/api/kb/entries/{entry['id']}/approve?shop=shop-a", json={"base_version": entry["version"]}).status_code == 200

    # the dashboard counts only the conversations of the shops an editor serves
    import sqlalchemy as sa

    figures = ed.get(base + "/api/dashboard?since=7d").json()
    assert figures["period"]["shops"] == ["shop-a"] and not figures["per_agent"]
    engine = sa.create_engine(scoped["db"])
    with engine.connect() as conn:
        by_shop = dict(conn.execute(sa.text(
            "SELECT c.shop, COUNT(*) FROM feedback f JOIN conversations c ON c.id = f.conversation_id "
            "WHERE f.event = 'abstained' OR (f.event = 'shown' AND f.rank = 1) GROUP BY c.shop")).all())
    engine.dispose()
    assert by_shop.get("shop-b") and figures["coverage"]["messages"] == by_shop["shop-a"]
    assert ed.get(base + "/api/dashboard?since=7d&shop=shop-b").status_code == 403
    everything = api(base, "/api/dashboard?since=7d")[1]  # the admin: every shop
    assert everything["coverage"]["messages"] == sum(by_shop.values()) and everything["period"]["shops"] is None
    assert api(base, "/api/dashboard?since=7d&shop=shop-b")[1]["coverage"]["messages"] == by_shop["shop-b"]


def test_an_agents_console_shows_only_its_shops_conversations_live(browser, scoped: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    from live_server import login

    base = scoped["base"]
    context = browser.new_context(viewport={"width": 1400, "height": 860})
    page = context.new_page()
    login(page, base, "ann", "ann-pass-123")
    page.goto(base + "/agent")
    page.wait_for_selector("body[data-connected=true]")
    assert page.locator("#conversations button[data-id='scope-b-1']").count() == 0
    assert page.locator("#conversations button[data-id='scope-a-1']").count() == 1
    api(base, "/api/conversations/live-b-1/messages", {"text": "包邮吗", "shop": "shop-b"})
    api(base, "/api/conversations/live-a-1/messages", {"text": "包邮吗", "shop": "shop-a"})
    # The server sends an event to the consoles before it answers the API call, over one socket in order, and the
    # page renders each event as it comes: had shop b's message been sent here, it would be on the page before a's.
    page.wait_for_selector("#conversations button[data-id='live-a-1']")
    assert page.locator("#conversations button[data-id='live-b-1']").count() == 0
    context.close()


def test_a_shops_csv_may_use_the_common_layers_values_and_keeps_its_own_profile(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The web editor's CSV import checked answers against the shop's own profile only (an export of entries the editor
    had accepted came back refused); `bot kb import x.csv --shop` copied the common layer's values into the shop's."""
    from bot.intents import load_intents
    from bot.kb.sync import csv_for

    db = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    common = KBStore(db, shops.COMMON)
    import_kb(settings, store=common)  # the seed KB and its profile, as the common layer
    shops.add(common.db, "shop-x", {"shop_name": "小满杂货"})
    csv_text = "id,intent,status,tags,questions,answer\r\nprice.student,price,approved,,有学生价吗,亲，满{free_shipping_threshold}元包邮哦~\r\n"
    store = KBStore(db, "shop-x")
    store.replace_all(csv_for(store, csv_text.encode("utf-8"), load_intents(PROJECT)), author="sheet")
    assert store.load().shop == {"shop_name": "小满杂货"} and [e.id for e in store.load().entries] == ["price.student"]
    assert store.shop()["free_shipping_threshold"] == common.shop()["free_shipping_threshold"]
    (tmp_path / "x.csv").write_text(csv_text, encoding="utf-8")
    import_kb(settings, tmp_path / "x.csv", store=store)
    assert store.load().shop == {"shop_name": "小满杂货"}, "the common layer's values stay the common layer's"


def test_bot_train_learns_the_kb_the_default_shop_is_suggested_from_both_layers(tmp_path: Path) -> None:
    """`bot train`'s first step hands fine-tuning and the index what the engine answers from: the common layer's
    entries too, and the profile that fills them. It used to hand them the default shop's own layer only, so a common
    entry was in the NLU examples but not in what the encoder learned, and the server rebuilt the index at start."""
    from bot.settings import load_settings
    from bot.train import knowledge_base_step

    project = tmp_path / "project"
    project.mkdir()
    (project / "domain.yml").write_bytes((PROJECT / "domain.yml").read_bytes())
    shutil.copytree(PROJECT / "kb", project / "kb")
    shutil.copytree(PROJECT / "data" / "nlu", project / "data" / "nlu")
    settings = load_settings(project, data_dir=tmp_path / "var")
    store = KBStore(settings.db_url)
    knowledge_base_step(settings, store, echo=lambda _: None)  # kb/ into the default shop's own layer
    common = store.for_shop(shops.COMMON)
    engraving = Entry("product_info.engraving", "product_info", "approved", (), ("能刻字吗", "可以免费刻字不"), "亲,{shop_name}支持免费刻字哦~")
    _approved(common, engraving)
    _, content, nlu_file = knowledge_base_step(settings, store, echo=lambda _: None)
    assert engraving.id in {e.id for e in content.approved()}, "a common entry the default shop is suggested was left out"
    assert content.shop == store.approved().shop and content.shop["shop_name"]
    assert "能刻字吗" in nlu_file.read_text(encoding="utf-8")
