"""The suggestion engine on the seed KB with a real Rasa model, real m3e-small, real faiss and SQLite."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest

from bot import evaluate
from bot.errors import MessageError
from bot.intents import OUT_OF_SCOPE, load_intents
from bot.kb.files import read_kb

# Floors for the held-out paraphrases (tests/data/paraphrases_test.yml, never used for tuning).
# Measured (bench/core_quality.py): intent accuracy 0.908, hit@3 0.923, hit@1 0.785 on 130 messages.
# The floors sit a few points under, for training noise across machines.
MIN_INTENT_ACCURACY = 0.87
MIN_HIT_AT_3 = 0.89
MIN_HIT_AT_1 = 0.74

PROJECT = Path(__file__).resolve().parents[1]


def test_every_seed_question_retrieves_its_own_answer_first(engine) -> None:  # type: ignore[no-untyped-def]
    misses = []
    for entry in engine.kb.approved():
        if "clarify" in entry.tags:
            continue
        for question in entry.questions:
            hits = engine.index.search(question, k=1)
            if not hits or hits[0].entry.id != entry.id:
                misses.append((question, entry.id, hits[0].entry.id if hits else None))
    assert not misses, misses


def test_held_out_paraphrases(engine, paraphrases_test) -> None:  # type: ignore[no-untyped-def]
    items = evaluate.labelled(paraphrases_test)
    assert len(items) >= 60
    result = evaluate.metrics(evaluate.run(engine, items))
    assert result["intent_accuracy"] >= MIN_INTENT_ACCURACY, result
    assert result["hit@3"] >= MIN_HIT_AT_3, result
    assert result["hit@1"] >= MIN_HIT_AT_1, result


def test_shipping_fee_reply_is_filled_from_the_shop_profile(engine) -> None:  # type: ignore[no-untyped-def]
    result = engine.suggest("能包邮吗")
    assert result.intent.name == "shipping_fee"
    assert not result.abstained
    top = result.suggestions[0]
    assert top.id == "shipping_fee.free_threshold"
    assert engine.kb.shop["free_shipping_threshold"] in top.text
    assert "{" not in top.text
    assert top.filled["free_shipping_threshold"] == engine.kb.shop["free_shipping_threshold"]
    assert len(result.suggestions) == 3
    assert [s.score for s in result.suggestions] == sorted((s.score for s in result.suggestions), reverse=True)


@pytest.mark.parametrize(
    "text, intent",
    [("包邮吗亲", "shipping_fee"), ("是正品吗", "authenticity"), ("今天下单什么时候到", "delivery_time"), ("能便宜点吗", "price")],
    ids=["shipping", "authenticity", "delivery", "price"],
)
def test_the_four_owner_questions(engine, text: str, intent: str) -> None:  # type: ignore[no-untyped-def]
    result = engine.suggest(text)
    assert result.intent.name == intent
    assert not result.abstained
    assert result.suggestions[0].intent == intent


def test_exact_keywords_count(engine) -> None:  # type: ignore[no-untyped-def]
    """申通 / 7天无理由 are words the lexical half must catch even when the sentence is odd."""
    courier = engine.index.search("申通?", k=3)
    assert any(h.entry.id == "delivery_time.which_courier" for h in courier), courier
    assert courier[0].lexical > 0
    returns = engine.suggest("7天无理由")
    assert returns.suggestions[0].id == "return_refund.seven_day_no_reason"


@pytest.mark.parametrize("text", ["天气怎么样", "帮我写个作业", "给我讲个笑话吧"], ids=["weather", "homework", "joke"])
def test_unrelated_text_abstains_or_is_out_of_scope(engine, text: str) -> None:  # type: ignore[no-untyped-def]
    result = engine.suggest(text)
    assert result.abstained or result.intent.name == OUT_OF_SCOPE, result


def test_random_characters_abstain_or_are_out_of_scope(engine) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    for _ in range(5):
        text = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(rng.randint(6, 20)))
        result = engine.suggest(text)
        assert result.abstained or result.intent.name == OUT_OF_SCOPE, (text, result)
    for _ in range(20):  # random ideographs: mostly characters no buyer of this shop writes
        text = "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(rng.randint(4, 12)))
        result = engine.suggest(text)
        assert result.abstained or result.intent.name == OUT_OF_SCOPE, (text, result)


def test_abstention_says_why_and_offers_the_clarifying_script(engine) -> None:  # type: ignore[no-untyped-def]
    result = engine.suggest("😀😀😀")
    assert result.abstained
    assert result.reason and "emoji" in result.reason
    assert [r.id for r in result.suggestions] == ["out_of_scope.clarify"]


@pytest.mark.parametrize("text", ["", "   ", "\n\t "], ids=["empty", "spaces", "whitespace"])
def test_empty_messages_are_a_clear_error(engine, text: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MessageError, match="empty"):
        engine.suggest(text)


def test_a_5000_character_message_is_a_clear_error(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MessageError, match="5000 characters; the limit is 1000"):
        engine.suggest("包邮吗" * 1666 + "吗吗")


def test_non_text_is_a_clear_error(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MessageError, match="must be text"):
        engine.suggest(12345)  # type: ignore[arg-type]


def test_hostile_text_is_just_text(engine) -> None:  # type: ignore[no-untyped-def]
    result = engine.suggest("<img src=x onerror=alert(1)> 包邮吗'; DROP TABLE kb_entries;--")
    assert result.suggestions
    assert engine.store.count() == len(engine.store.load().entries) == len(read_kb(PROJECT / "kb", load_intents(PROJECT)).entries)


def test_follow_up_borrows_intent_from_context(engine) -> None:  # type: ignore[no-untyped-def]
    alone = engine.suggest("这个呢")
    in_context = engine.suggest("这个呢", context=["这个是正品吗"])
    assert in_context.intent.name == "authenticity"
    assert alone.intent.name != "authenticity" or alone.intent.confidence < in_context.intent.confidence


def test_drafts_are_never_suggested(engine) -> None:  # type: ignore[no-untyped-def]
    drafts = [e for e in engine.store.load().entries if e.status == "draft"]
    assert drafts
    for draft in drafts:
        for question in draft.questions:
            result = engine.suggest(question, k=10)
            assert draft.id not in [s.id for s in result.suggestions]


def test_json_shape(engine) -> None:  # type: ignore[no-untyped-def]
    data = engine.suggest("是正品吗").to_dict()
    assert set(data) == {"intent", "intent_ranking", "suggestions", "abstained", "reason", "context"}
    assert data["context"] is None  # no conversation so far
    assert set(data["intent"]) == {"name", "confidence"}
    assert {"id", "text", "score", "intent", "matched_question"} <= set(data["suggestions"][0])


def test_remembered_readings_survive_threads_and_forget_a_changed_kb() -> None:
    """The memo of earlier messages' readings is shared by the threads that suggest while a KB edit empties it: no
    KeyError from a put racing a clear, and a reading begun before the edit is not stored after it."""
    import threading
    import time

    from bot.suggest.live_kb import Readings

    readings = Readings(size=50)
    errors: list[BaseException] = []
    stop = time.monotonic() + 1.0

    def put(prefix: str) -> None:
        i = 0
        while time.monotonic() < stop:
            try:
                readings.put(f"{prefix}{i % 200}", "price", readings.generation)
            except BaseException as exc:  # noqa: BLE001 - any failure is what the test looks for
                errors.append(exc)
                return
            i += 1

    def forget() -> None:
        while time.monotonic() < stop:
            readings.forget()

    threads = [threading.Thread(target=put, args=(p,)) for p in "ab"] + [threading.Thread(target=forget)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(readings) <= 50
    before = readings.generation
    readings.forget()  # an approved edit, while a suggestion read "包邮吗" against the old KB
    readings.put("包邮吗", "shipping_fee", before)
    assert readings.get("包邮吗") is None
    readings.put("包邮吗", "shipping_fee", readings.generation)
    assert readings.get("包邮吗") == "shipping_fee"


def test_a_reading_helped_by_the_earlier_message_is_not_remembered_as_the_messages_own(engine) -> None:  # type: ignore[no-untyped-def]
    """Each message is also searched together with the one before it; what that finds belongs to this conversation.
    Remembered as the text's own reading, it became what every later conversation read that text to ask."""
    from bot.clauses import read_message

    engine.forget_readings()
    text = read_message("运费多少").query
    engine.suggest("运费多少", context=["什么时候发货"])
    assert engine._own_intents.get(text) is None
    alone = engine.suggest("运费多少")
    assert engine._own_intents.get(text) == alone.intent.name
