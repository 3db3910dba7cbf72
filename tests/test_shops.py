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
from live_server import BOT, PROJECT, api

from bot import shops
from bot.kb import Entry
from bot.kb.store import KBStore
from bot.kb.sync import import_kb
from bot.shop_engines import ShopEngines
from bot.suggest import Engine

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
    shops.add(common.engine, "shop-a", _profile(_kb_with(tmp_path, "a", free_shipping_threshold="59", shop_name="青禾家居")))
    shops.add(common.engine, "shop-b", _profile(_kb_with(tmp_path, "b", free_shipping_threshold="129", shop_name="木森数码")))
    first = Engine(settings, None, KBStore(settings.db_url, "shop-a", common.engine), engine.encoder, nlu=engine.nlu)
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


def test_each_shop_answers_from_the_common_layer_with_its_own_facts(platform) -> None:  # type: ignore[no-untyped-def]
    engines = platform["engines"]
    a, b = _top(engines, "shop-a", "包邮吗"), _top(engines, "shop-b", "包邮吗")
    assert a.id == b.id == FREE_SHIPPING
    assert "满59" in a.text and "满129" in b.text
    assert len(engines.get("shop-a").index) == len(engines.get("shop-b").index) == len(platform["common"].approved().entries)
    with pytest.raises(shops.ShopError, match="bot shop add"):
        engines.get("shop-c")


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
    engines.sync()

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
    engines.sync()
    assert any(s.text == "亲，我们保证正品，支持专柜验货哦~" for s in engines.get("shop-a").suggest("是正品吗").suggestions)
    assert GENUINE not in [s.id for s in engines.get("shop-b").suggest("是正品吗").suggestions]


def test_shops_indexes_beyond_the_memory_budget_are_dropped_and_come_back(platform) -> None:  # type: ignore[no-untyped-def]
    engines: ShopEngines = platform["engines"]
    one_index = engines.first.index.memory_bytes
    engines.settings = replace(engines.settings, index=replace(engines.settings.index, memory_budget_mb=2.5 * one_index / 2**20))
    shops.add(platform["common"].engine, "shop-c", {"free_shipping_threshold": "88"})
    engines.get("shop-b")
    engines.get("shop-c")
    assert engines.loaded() == ["shop-a", "shop-c"]  # b, least recently used, was dropped; the first engine stays
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
    assert "no shop" in _bot("kb", "import", str(kb_a), "--shop", "shop-q", db=db).stderr

    removed = _bot("shop", "remove", "shop-a", db=db)
    assert removed.returncode == 0 and "removed shop shop-a" in removed.stdout
    assert "shop-a" not in _bot("shop", "list", db=db).stdout
    assert KBStore(db, "shop-a").count() == 0 and KBStore(db, shops.COMMON).count() == 94


def test_conversations_belong_to_their_shop_through_the_server(server: dict[str, str], tmp_path: Path) -> None:
    base, db = server["base"], server["db"]
    for name, threshold in (("shop-a", "59"), ("shop-b", "129")):
        kb_dir = _kb_with(tmp_path, name, free_shipping_threshold=threshold)
        assert _bot("shop", "add", name, "--profile", str(kb_dir / "shop.yml"), db=db).returncode == 0
        assert _bot("kb", "import", str(kb_dir), "--shop", name, db=db).returncode == 0

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
