"""Conversation context: the dialogue model trained on data/stories/ ranks suggestions, in the engine and in plain Rasa."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from bot import context_eval
from bot.clauses import read_message
from bot.context import conversation_of, is_link_only
from bot.server.client import free_port, wait_until_up

PROJECT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
RASA = str(Path(sys.executable).with_name("rasa"))


def customer(text: str) -> dict[str, str]:
    return {"role": "customer", "text": text}


def agent(text: str, entry_id: str | None = None) -> dict[str, str]:
    return {"role": "agent", "text": text, **({"entry_id": entry_id} if entry_id else {})}


# -- follow-ups, with context and without --------------------------------------------------


def test_the_engine_has_the_dialogue_model(engine) -> None:  # type: ignore[no-untyped-def]
    assert engine.dialogue is not None, "`rasa train` should train the stories' policies into the model"


def test_a_bare_follow_up_takes_its_topic_from_the_previous_question(engine) -> None:  # type: ignore[no-untyped-def]
    context = [customer("这个保温杯多少钱"), agent("亲,这款是99元哦~")]
    alone = engine.suggest("这个呢")
    in_context = engine.suggest("这个呢", context=context)
    assert alone.abstained and alone.intent.name == "follow_up"
    assert not in_context.abstained and in_context.intent.name == "price"
    assert in_context.suggestions[0].id == "price.ask_price"
    assert in_context.context is not None and in_context.context.topic == "这个保温杯多少钱"
    assert in_context.context.message_intent == "follow_up"


@pytest.mark.parametrize("message", ["那这款呢？", "还有一个呢", "这个怎么样啊", "那大一码的呢"])
def test_a_first_message_that_only_points_back_gets_the_clarifying_script(engine, message: str) -> None:  # type: ignore[no-untyped-def]
    alone = engine.suggest(message)
    assert alone.abstained, f"{message!r} has nothing earlier to follow, yet got {[s.id for s in alone.suggestions]}"
    assert alone.reason and "no earlier message" in alone.reason
    assert [s.id for s in alone.suggestions] == ["out_of_scope.clarify"]
    in_context = engine.suggest(message, context=[customer("这款保温杯有现货吗"), agent("有的亲")])
    assert not in_context.abstained and in_context.suggestions[0].intent == "product_info"


def test_this_one_after_a_product_link_asks_the_earlier_question_again(engine) -> None:  # type: ignore[no-untyped-def]
    link = "https://item.taobao.com/item.htm?id=6634120987"
    context = [customer("这款还有库存吗"), agent("有的亲"), customer(link)]
    in_context = engine.suggest("这个呢", context=context)
    assert in_context.intent.name == "product_info"
    assert "product_info.stock" in [s.id for s in in_context.suggestions]
    assert engine.suggest("这个呢", context=[customer(link)]).abstained  # a link alone gives no topic


@pytest.mark.parametrize("message", ["短袖呢", "长袖呢"])
def test_an_ok_before_a_new_question_lends_it_no_words(engine, message: str) -> None:  # type: ignore[no-untyped-def]
    """The search also reads a message with the buyer's previous one; after "好" that made "好 短袖呢", and greetings came first."""
    context = [customer("这件T恤有现货吗"), agent("有的亲", "product_info.stock"), customer("好")]
    result = engine.suggest(message, context=context)
    assert not any(s.intent == "greet" for s in result.suggestions), [s.id for s in result.suggestions]
    assert engine._earlier_words(conversation_of(context).buyer_turns) is None
    assert engine._earlier_words(conversation_of(context[:2]).buyer_turns) == read_message("这件T恤有现货吗").query


def test_ok_after_an_answer_offers_the_closing_script(engine) -> None:  # type: ignore[no-untyped-def]
    context = [customer("包邮吗"), agent("亲,全场满99元包邮哦~", "shipping_fee.free_threshold")]
    in_context = engine.suggest("好的", context=context)
    alone = engine.suggest("好的")
    assert in_context.intent.name == "thanks_goodbye"
    assert in_context.suggestions[0].id == "thanks_goodbye.closing"
    assert "谢谢您对小满生活旗舰店的支持" in in_context.suggestions[0].text
    assert alone.intent.name == "affirm"  # on its own "好的" is only an acknowledgement


def test_then_what_about_shipping_after_a_price_answer(engine) -> None:  # type: ignore[no-untyped-def]
    result = engine.suggest("那运费呢", context=[customer("这个多少钱"), agent("亲,这款69元~")])
    assert result.intent.name == "shipping_fee"
    assert result.suggestions[0].intent == "shipping_fee"


def test_a_vague_complaint_after_a_late_parcel_gets_complaint_handling(engine) -> None:  # type: ignore[no-untyped-def]
    context = [customer("我的快递三天了还没到"), agent("亲您别急,我马上帮您查一下物流~")]
    result = engine.suggest("你们怎么回事啊", context=context)
    assert result.intent.name == "complaint"
    assert result.suggestions[0].intent == "complaint"
    assert result.context is not None and result.context.next_reply is not None
    assert result.context.next_reply.name == "complaint"


def test_a_hesitating_buyer_gets_the_follow_up_script(engine) -> None:  # type: ignore[no-untyped-def]
    result = engine.suggest("我再看看", context=[customer("能便宜点吗"), agent("亲,价格是统一定的哦~")])
    assert result.suggestions[0].id == "hesitate.follow_up"


def test_held_out_conversations_context_makes_the_difference(engine) -> None:  # type: ignore[no-untyped-def]
    conversations = context_eval.load_conversations(DATA / "context_test.yml")
    assert len(conversations) >= 40
    alone = context_eval.run(engine, conversations, "none")
    with_text = context_eval.run(engine, conversations, "text")
    with_entries = context_eval.run(engine, conversations, "entries")
    assert alone["intent_accuracy"] < 0.5, "these messages should be unanswerable without context"
    assert with_text["intent_accuracy"] >= 0.8
    assert with_entries["intent_accuracy"] >= 0.8
    assert with_text["hit@3"] >= alone["hit@3"] + 0.3


def test_context_conversations_are_held_out_from_training_data() -> None:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    trained = set()
    for path in list((PROJECT / "data" / "nlu").glob("*.yml")) + list((PROJECT / "kb" / "entries").glob("*.yml")):
        text = path.read_text(encoding="utf-8")
        trained |= {line.strip().lstrip("- ").strip() for line in text.splitlines()}
    for name in ("context_dev.yml", "context_test.yml"):
        for item in yaml.load((DATA / name).read_text(encoding="utf-8")):
            assert item["message"] not in trained, f"{name}: {item['message']!r} is a training example"
    dev = {i["message"] for i in yaml.load((DATA / "context_dev.yml").read_text(encoding="utf-8"))}
    test = {i["message"] for i in yaml.load((DATA / "context_test.yml").read_text(encoding="utf-8"))}
    assert not dev & test


def test_shared_links_are_not_questions() -> None:
    assert is_link_only("https://detail.tmall.com/item.htm?id=1") and not is_link_only("https://a.cn/x 这个有货吗")
    # Chinese has no spaces: the link ends where the question starts
    assert not is_link_only("https://item.taobao.com/item.htm?id=123这个有货吗")
    assert is_link_only("https://s.taobao.com/search?q=连衣裙") and is_link_only("https://s.taobao.com/search?q=连衣裙&s=44")
    assert not is_link_only("https://s.taobao.com/search?q=连衣裙 有货吗") and not is_link_only("https://s.taobao.com/search?q=1有货吗")
    assert not is_link_only("https://item.taobao.com/item.htm?id=1&x=这个有货吗") and is_link_only("https://s.taobao.com/search?keyword=连衣裙")
    # typed on after a search link's Chinese query, with no space: a question all the same
    assert not is_link_only("https://s.taobao.com/search?q=连衣裙有货吗") and not is_link_only("https://s.taobao.com/search?keyword=短袖还有吗？")
    # 呢 is also a cloth (毛呢, 呢子): inside a search it is the search's
    assert is_link_only("https://s.taobao.com/search?q=毛呢大衣") and is_link_only("https://s.taobao.com/search?q=毛呢大衣&s=44")
    assert is_link_only("【淘宝】https://s.taobao.com/search?q=呢子外套 点击链接直接打开")
    assert is_link_only("https://s.taobao.com/search?q=iphone手机壳") and is_link_only("https://s.taobao.com/search?q=2024新款连衣裙&s=44")
    assert not is_link_only("https://s.taobao.com/search?q=2024新款连衣裙。有货吗")
    assert not is_link_only("我在m.tb.cn/h.abc看到的这款还有吗")


# -- Rasa's own commands on the project ------------------------------------------------------


def test_rasa_test_stories_run_clean(trained_model: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [RASA, "test", "core", "--model", str(trained_model), "--stories", "tests/test_stories.yml",
         "--out", str(tmp_path / "results"), "--fail-on-prediction-errors"],
        cwd=PROJECT, capture_output=True, text=True, timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    failed = tmp_path / "results" / "failed_test_stories.yml"
    assert result.returncode == 0, (failed.read_text(encoding="utf-8") if failed.exists() else "") + result.stderr[-3000:]
    assert "None of the test stories failed" in failed.read_text(encoding="utf-8")


def test_there_are_at_least_25_stories() -> None:
    count = sum(p.read_text(encoding="utf-8").count("- story:") for p in (PROJECT / "data" / "stories").glob("*.yml"))
    assert count >= 25


# -- plain Rasa: `rasa run --enable-api` + `rasa run actions` ----------------------------------


def _post(url: str, body: dict[str, Any], timeout: float = 120) -> Any:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def rasa_pair(engine, trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A real action server and a real Rasa server on loopback, on the session's model and KB database."""
    workdir = tmp_path_factory.mktemp("rasa")
    actions_port, rasa_port = free_port(), free_port()
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n', encoding="utf-8")
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "BOT_MODEL": str(trained_model),
        "BOT_DB": engine.settings.db_url,
        "BOT_DATA_DIR": str(engine.settings.data_dir),
        "PYTHONPATH": str(PROJECT),
    }
    logs = [open(workdir / name, "w") for name in ("actions.log", "rasa.log")]
    processes = [
        subprocess.Popen([RASA, "run", "actions", "--actions", "actions", "--port", str(actions_port)],
                         cwd=PROJECT, env=env, stdout=logs[0], stderr=subprocess.STDOUT),
        subprocess.Popen([RASA, "run", "--enable-api", "--model", str(trained_model), "--endpoints", str(endpoints),
                          "--interface", "127.0.0.1", "--port", str(rasa_port)],
                         cwd=PROJECT, env=env, stdout=logs[1], stderr=subprocess.STDOUT),
    ]
    try:
        wait_until_up(f"http://127.0.0.1:{actions_port}/health", processes[0], 180)
        wait_until_up(f"http://127.0.0.1:{rasa_port}/status", processes[1], 240)
        yield f"http://127.0.0.1:{rasa_port}"
    except Exception:
        for log in logs:
            log.flush()
        print((workdir / "actions.log").read_text()[-3000:], (workdir / "rasa.log").read_text()[-3000:])
        raise
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()


def test_plain_rasa_answers_a_rest_message_with_suggestions(rasa_pair: str) -> None:
    first = _post(f"{rasa_pair}/webhooks/rest/webhook", {"sender": "buyer-1", "message": "能包邮吗"})
    assert len(first) == 1 and "text" not in first[0], "Rasa must not answer the buyer itself"
    payload = first[0]["custom"]
    assert payload["intent"]["name"] == "shipping_fee"
    assert payload["suggestions"][0]["id"].startswith("shipping_fee.")
    assert "{" not in payload["suggestions"][0]["text"]  # filled with the shop's facts

    second = _post(f"{rasa_pair}/webhooks/rest/webhook", {"sender": "buyer-1", "message": "好的"})
    payload = second[0]["custom"]
    assert payload["intent"]["name"] == "thanks_goodbye"  # the tracker's history made it the closing moment
    assert payload["suggestions"][0]["id"] == "thanks_goodbye.closing"
    assert payload["context"]["message_intent"] == "affirm"

    with urllib.request.urlopen(f"{rasa_pair}/conversations/buyer-1/tracker", timeout=30) as response:
        tracker = json.loads(response.read())
    assert tracker["slots"]["agent_assist"] is True
    actions = [e["name"] for e in tracker["events"] if e["event"] == "action"]
    assert actions.count("action_suggest_replies") == 2
    assert not [a for a in actions if a.startswith("utter_")]
    bot_payloads = [e["data"]["custom"] for e in tracker["events"] if e["event"] == "bot"]
    assert [p["suggestions"][0]["id"] for p in bot_payloads][-1] == "thanks_goodbye.closing"



def test_a_server_start_answers_by_retrieval_while_the_rasa_model_loads(engine, trained_model: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from bot.suggest import Engine

    # a copy of the archive: a process loads each archive once, and this start must be a cold one
    cold_model = tmp_path / "cold-start.tar.gz"
    shutil.copyfile(trained_model, cold_model)
    fresh = Engine.from_settings(engine.settings, model_path=cold_model, nlu_in_background=True)
    assert not fresh.nlu_ready.is_set(), "the Rasa model takes seconds to load: the engine must not wait for it"
    early = fresh.suggest("包邮吗")
    assert early.suggestions[0].intent == "shipping_fee" and early.intent.name == "shipping_fee"
    assert fresh.nlu_ready.wait(300)
    assert fresh.classifier is not None and fresh.dialogue is not None
    closing = fresh.suggest("好的", context=[customer("包邮吗"), agent("满99包邮哦", "shipping_fee.free_threshold")])
    assert closing.suggestions[0].id == "thanks_goodbye.closing"
