"""Offline evaluation: hand-computed metrics, every log format, bad lines, the intent map, and the report in a browser."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.errors import BotError
from bot.evaluate import Outcome, metrics
from bot.logs import LogItem, map_intent, read_intent_map, read_log

PROJECT = Path(__file__).resolve().parents[1]


def _outcome(gold: str, predicted: str, confidence: float = 0.9, replies: tuple[str, ...] = (), got: tuple[str, ...] = (), ms: float = 10.0) -> Outcome:
    return Outcome(LogItem(f"{gold}->{predicted}", gold, replies), predicted, confidence, got, False, ms / 1000)


def test_metrics_match_hand_computed_values() -> None:
    outcomes = [
        _outcome("price", "price", 0.9, ("p1",), ("p1", "p2", "p3")),       # hit@1
        _outcome("price", "price", 0.8, ("p2",), ("p1", "p2", "p3")),       # hit@3, rank 2
        _outcome("price", "shipping_fee", 0.6, ("p3",), ("s1", "s2", "s3")),  # miss
        _outcome("shipping_fee", "shipping_fee", 0.95),
        _outcome("authenticity", "price", 0.4),  # authenticity is never predicted
    ]
    m = metrics(outcomes)
    assert m["n"] == 5
    assert m["intent_accuracy"] == pytest.approx(3 / 5)
    price, ship, auth = m["per_intent"]["price"], m["per_intent"]["shipping_fee"], m["per_intent"]["authenticity"]
    assert (price["precision"], price["recall"], price["support"]) == (pytest.approx(2 / 3), pytest.approx(2 / 3), 3)
    assert price["f1"] == pytest.approx(2 / 3)
    assert (ship["precision"], ship["recall"], ship["f1"]) == (pytest.approx(0.5), 1.0, pytest.approx(2 / 3))
    assert auth == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert m["intent_macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 0) / 3)
    assert m["intent_weighted_f1"] == pytest.approx((3 * 2 / 3 + 1 * 2 / 3 + 0) / 5)
    labels = m["confusion"]["labels"]
    assert labels == ["authenticity", "price", "shipping_fee"]
    assert m["confusion"]["matrix"] == [[0, 1, 0], [0, 2, 1], [0, 0, 1]]
    assert m["n_with_replies"] == 3
    assert (m["hit@1"], m["hit@3"]) == (pytest.approx(1 / 3), pytest.approx(2 / 3))
    assert m["mrr"] == pytest.approx((1 + 0.5 + 0) / 3)
    at_07 = next(p for p in m["threshold_curve"] if p["threshold"] == 0.7)
    assert at_07["coverage"] == pytest.approx(3 / 5) and at_07["accuracy"] == pytest.approx(1.0)
    assert m["latency_ms"]["p50"] == pytest.approx(10.0)


def test_every_format_reads_the_same(tmp_path: Path) -> None:
    rows = [("包邮吗", "shipping_fee", "shipping_fee.free_threshold|shipping_fee.buy_two_free", "c1", "1"), ("这个呢", "shipping_fee", "", "c1", "2")]
    (tmp_path / "log.jsonl").write_text(
        "\n".join(json.dumps(dict(zip(("text", "intent", "reply_id", "conversation_id", "turn"), r)), ensure_ascii=False) for r in rows), encoding="utf-8"
    )
    for suffix, sep in ((".csv", ","), (".tsv", "\t")):
        lines = [sep.join(("text", "intent", "reply_id", "conversation_id", "turn"))] + [sep.join(r) for r in rows]
        (tmp_path / f"log{suffix}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = [
        LogItem("包邮吗", "shipping_fee", ("shipping_fee.free_threshold", "shipping_fee.buy_two_free"), "c1", 1),
        LogItem("这个呢", "shipping_fee", (), "c1", 2),
    ]
    for name in ("log.jsonl", "log.csv", "log.tsv"):
        items = [LogItem(i.text, i.intent, i.reply_ids, i.conversation_id, i.turn) for i in read_log(tmp_path / name).items]
        assert items == expected, name
    (tmp_path / "nlu.yml").write_text('version: "3.1"\nnlu:\n- intent: price\n  examples: |\n    - 多少钱\n    - 能便宜点吗\n', encoding="utf-8")
    assert [(i.text, i.intent) for i in read_log(tmp_path / "nlu.yml").items] == [("多少钱", "price"), ("能便宜点吗", "price")]


def test_bad_lines_are_reported_with_numbers_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text('{"text": "包邮吗", "intent": "shipping_fee"}\nnot json\n{"text": "", "intent": "price"}\n[1, 2]\n{"text": "x", "intent": "price", "turn": "two"}\n{"text": "是正品吗", "intent": "authenticity"}\n', encoding="utf-8")
    log = read_log(path)
    assert [i.text for i in log.items] == ["包邮吗", "是正品吗"]
    assert [p.split(": ", 1)[0] for p in log.problems] == [f"{path}:2", f"{path}:3", f"{path}:4", f"{path}:5"]
    csv_path = tmp_path / "log.csv"
    csv_path.write_text("text,intent\n包邮吗,shipping_fee\n多,余,字段\n", encoding="utf-8")
    log = read_log(csv_path)
    assert len(log.items) == 1 and log.problems == [f"{csv_path}:3: 3 fields, the header has 2"]
    with pytest.raises(BotError, match="header"):
        (tmp_path / "nohead.csv").write_text("包邮吗,shipping_fee\n", encoding="utf-8")
        read_log(tmp_path / "nohead.csv")
    with pytest.raises(BotError, match="unknown log format"):
        (tmp_path / "log.txt").write_text("x", encoding="utf-8")
        read_log(tmp_path / "log.txt")


def test_intent_map(tmp_path: Path) -> None:
    path = tmp_path / "map.yml"
    path.write_text("price: price\nshipping_fee: shipping_fee\n'*': other\n", encoding="utf-8")
    mapping = read_intent_map(path)
    assert map_intent("price", mapping) == "price"
    assert map_intent("greet", mapping) == "other"
    assert map_intent("greet", None) == "greet"


def test_an_empty_kb_is_refused_not_scored(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    from bot.offline_eval import evaluate_log

    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps({"text": "包邮吗", "intent": "shipping_fee"}, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(BotError, match="no approved entries"):
        evaluate_log(settings, log, tmp_path / "out", echo=lambda _: None, progress=False)
    assert not (tmp_path / "out" / "metrics.json").exists()


def test_bot_eval_end_to_end_and_report_in_a_browser(tmp_path: Path, trained_model: Path, settings, browser) -> None:  # type: ignore[no-untyped-def]
    from bot.kb.sync import import_kb
    from bot.offline_eval import evaluate_log

    import_kb(settings)
    log = tmp_path / "log.jsonl"
    records = [
        {"text": "这件多少钱呀", "intent": "price", "reply_id": "price.ask_price", "conversation_id": "a", "turn": 1},
        {"text": "那运费呢", "intent": "shipping_fee", "reply_id": "shipping_fee.free_threshold", "conversation_id": "a", "turn": 2},
        {"text": "是正品吗", "intent": "authenticity", "reply_id": "authenticity.genuine_guarantee"},
        {"text": "今天天气好吗", "intent": "weather"},
    ]
    log.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\nbroken line\n", encoding="utf-8")
    intent_map = tmp_path / "map.yml"
    intent_map.write_text("price: price\nshipping_fee: shipping_fee\nauthenticity: authenticity\ndelivery_time: delivery_time\n'*': other\n", encoding="utf-8")
    out = tmp_path / "out"
    lines: list[str] = []
    summary = evaluate_log(settings, log, out, intent_map, trained_model, echo=lines.append, progress=False)
    assert any("log.jsonl:5: not JSON" in line for line in lines)
    assert any("gold intent 'weather'" in line for line in lines)
    predictions = [json.loads(line) for line in (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [p["text"] for p in predictions] == [r["text"] for r in records], "input order"
    assert set(predictions[0]) == {"text", "gold_intent", "predicted_intent", "confidence", "reply_ids", "abstained"}
    assert predictions[1]["predicted_intent"] == "shipping_fee"
    assert predictions[3]["predicted_intent"] == "other", "mapped onto the log's labels"
    assert summary["n"] == 4 and summary["intent_accuracy"] >= 0.75
    again = evaluate_log(settings, log, tmp_path / "again", intent_map, trained_model, echo=lambda _: None, progress=False)
    for key in ("intent_accuracy", "intent_macro_f1", "hit@1", "hit@3", "mrr", "confusion", "per_intent"):
        assert again[key] == summary[key], f"reproducible: {key}"

    page = browser.new_page(viewport={"width": 1200, "height": 1600})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((out / "report.html").as_uri())
    for plot in ("confusion", "f1", "curve", "latency"):
        assert page.locator(f"#plot-{plot} svg").count() == 1, plot
    assert "price" in page.locator("#plot-confusion svg text").all_text_contents(), "labels are SVG text, not glyph outlines"
    assert "是正品吗" in page.content() or "今天天气好吗" in page.content()
    shots = Path(os.environ.get("BOT_SCREENSHOTS", tmp_path))
    page.screenshot(path=str(shots / "report.png"), full_page=True)
    assert errors == []
    page.close()


def test_compare_two_configurations(tmp_path: Path, trained_model: Path, settings) -> None:  # type: ignore[no-untyped-def]
    from bot.kb.sync import import_kb
    from bot.offline_eval import evaluate_log

    import_kb(settings)
    log = tmp_path / "log.csv"
    log.write_text("text,intent,reply_id\n包邮吗,shipping_fee,shipping_fee.free_threshold\n是正品吗,authenticity,authenticity.genuine_guarantee\n", encoding="utf-8")
    configs = (PROJECT / "bench/configs/engine.yml", PROJECT / "bench/configs/rasa_intent_only.yml")
    summary = evaluate_log(settings, log, tmp_path / "out", None, trained_model, configs, echo=lambda _: None, progress=False)
    assert set(summary["configs"]) == {"engine", "rasa_intent_only"}
    assert summary["difference"]["intent_accuracy"] == pytest.approx(
        summary["configs"]["rasa_intent_only"]["intent_accuracy"] - summary["configs"]["engine"]["intent_accuracy"]
    )
    assert (tmp_path / "out" / "predictions_engine.jsonl").exists() and (tmp_path / "out" / "predictions_rasa_intent_only.jsonl").exists()
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "difference" in html and html.count("<section>") == 2


def test_response_selector_baseline_is_a_real_rasa_model(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    """Rasa's ResponseSelector trained on a KB (few epochs and three intents' entries here: this checks the path,
    bench/ measures it on the whole KB)."""
    from bot import response_selector
    from bot.kb import KBContent
    from bot.kb.store import KBStore
    from bot.kb.sync import import_kb

    import_kb(settings)
    whole = KBStore(settings.db_url).load()
    kb = KBContent(shop=whole.shop, entries=[e for e in whole.entries if e.intent in ("shipping_fee", "authenticity", "greet")])
    model = response_selector.train(kb, PROJECT / "data" / "dict", tmp_path, epochs=3)
    assert response_selector.train(kb, PROJECT / "data" / "dict", tmp_path, epochs=3) == model, "reused when unchanged"
    engine = response_selector.ResponseSelectorEngine(model, kb)
    result = engine.suggest("包邮吗")
    approved = {e.id for e in kb.approved()}
    assert 1 <= len(result.suggestions) <= 3
    assert all(reply.id in approved for reply in result.suggestions)
    assert result.intent.name in {e.intent for e in kb.approved()}
    assert "{" not in result.suggestions[0].text


def test_bm25_baseline_answers_by_words_alone(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    from bot.bm25_baseline import LexicalEngine
    from bot.kb.store import KBStore
    from bot.kb.sync import import_kb

    import_kb(settings)
    engine = LexicalEngine(KBStore(settings.db_url).load())
    result = engine.suggest("偏远地区运费多少", k=3)
    assert result.suggestions[0].id == "shipping_fee.remote_areas" and result.intent.name == "shipping_fee"
    assert "{" not in result.suggestions[0].text  # filled with the shop's facts, like the engine's
    assert engine.suggest("xyzzy").abstained
    with pytest.raises(BotError):
        engine.suggest("   ")
