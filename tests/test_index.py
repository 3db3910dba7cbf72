"""The index persists beside the KB and is rebuilt only when the KB or the encoder changed."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.encoder import Encoder, resolve_encoder
from bot.errors import BotError
from bot.index.search import KBIndex
from bot.index.storage import open_index
from bot.kb import KBContent
from bot.normalize import normalize


@pytest.fixture(scope="module")
def content(engine) -> KBContent:  # type: ignore[no-untyped-def]
    return engine.store.load()


def test_reused_when_nothing_changed(engine, content: KBContent, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first, built = open_index(content, engine.encoder, engine.settings.index, tmp_path)
    assert built
    second, built_again = open_index(content, engine.encoder, engine.settings.index, tmp_path)
    assert not built_again
    assert second.fingerprint == first.fingerprint
    assert second.search("包邮吗", 3)[0].entry.id == first.search("包邮吗", 3)[0].entry.id
    assert [p.name for p in tmp_path.iterdir()] == [first.fingerprint]


def test_rebuilt_when_an_answer_or_the_shop_changes(engine, content: KBContent, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, _ = open_index(content, engine.encoder, engine.settings.index, tmp_path)
    edited = replace(content, entries=tuple(replace(e, answer=e.answer + "~") if i == 0 else e for i, e in enumerate(content.entries)))
    changed, built = open_index(edited, engine.encoder, engine.settings.index, tmp_path)
    assert built and changed.fingerprint != base.fingerprint
    shop = replace(content, shop={**content.shop, "courier": "圆通快递"})
    _, built = open_index(shop, engine.encoder, engine.settings.index, tmp_path)
    assert built
    assert len(list(tmp_path.iterdir())) == 1, "old index directories are removed"


def test_a_rebuild_encodes_only_new_texts_taking_the_rest_from_the_saved_index(engine, content: KBContent, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, _ = open_index(content, engine.encoder, engine.settings.index, tmp_path)
    shutil.rmtree(tmp_path / base.fingerprint / "lexical")  # an older BM25 format: its vectors still count
    encoded: list[str] = []
    real_encode = engine.encoder.encode

    def counting_encode(texts, progress=False):  # type: ignore[no-untyped-def]
        encoded.extend(texts)
        return real_encode(texts, progress)

    first = content.approved()[0]
    edited = replace(content, entries=tuple(replace(e, questions=e.questions + ("这个新问法从没见过吗",)) if e.id == first.id else e for e in content.entries))
    engine.encoder.encode = counting_encode
    try:
        changed, built = open_index(edited, engine.encoder, engine.settings.index, tmp_path)
    finally:
        del engine.encoder.encode
    assert built and encoded == ["这个新问法从没见过吗"]
    old_text = first.questions[0]
    (found, reused), (_, original) = changed.vectors_for([old_text]), base.vectors_for([old_text])
    assert found.all() and np.abs(original).sum() > 0
    np.testing.assert_allclose(reused, original, atol=1e-6)


def test_drafts_do_not_change_the_index(engine, content: KBContent, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, _ = open_index(content, engine.encoder, engine.settings.index, tmp_path)
    draft = next(e for e in content.entries if e.status == "draft")
    edited = replace(content, entries=tuple(replace(e, answer="改过的草稿") if e.id == draft.id else e for e in content.entries))
    _, built = open_index(edited, engine.encoder, engine.settings.index, tmp_path)
    assert not built


def test_rebuilt_when_the_encoder_changes(engine, content: KBContent, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, _ = open_index(content, engine.encoder, engine.settings.index, tmp_path / "index")
    other_dir = tmp_path / "my-encoder"
    shutil.copytree(resolve_encoder("m3e-small"), other_dir)
    other = Encoder(other_dir)
    assert other.fingerprint != engine.encoder.fingerprint
    _, built = open_index(content, other, engine.settings.index, tmp_path / "index")
    assert built


def test_a_damaged_index_is_rebuilt_not_trusted(engine, content: KBContent, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    index, _ = open_index(content, engine.encoder, engine.settings.index, tmp_path)
    (tmp_path / index.fingerprint / "dense.faiss").write_bytes(b"truncated")
    again, built = open_index(content, engine.encoder, engine.settings.index, tmp_path)
    assert built
    assert again.search("是正品吗", 1)[0].entry.intent == "authenticity"


def test_search_fuses_dense_and_lexical(engine) -> None:  # type: ignore[no-untyped-def]
    hits = engine.index.search("偏远地区运费多少", 5)
    assert hits[0].entry.id == "shipping_fee.remote_areas"
    top = hits[0]
    weights = engine.settings.index
    assert top.score == pytest.approx(weights.dense_weight * top.dense + weights.lexical_weight * top.lexical, abs=1e-5)
    assert 0 <= top.lexical <= 1 and -1 <= top.dense <= 1
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len({h.entry.id for h in hits}) == len(hits)


def test_empty_kb_gives_no_hits(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    index = KBIndex.build(KBContent(shop={}, entries=()), engine.encoder, engine.settings.index, "empty")
    assert index.search("包邮吗", 3) == []


def test_entries_added_to_a_kb_that_started_empty_are_found_by_their_words(engine, content: KBContent) -> None:  # type: ignore[no-untyped-def]
    """A KB built empty has no BM25 statistics; its first entries (the overlay, until compaction) used to score 0 on BM25."""
    added = [e for e in content.approved() if e.intent == "shipping_fee"][:5]
    empty = KBIndex.build(KBContent(shop=content.shop, entries=()), engine.encoder, engine.settings.index, "empty")
    live = empty.apply(added)
    built = KBIndex.build(KBContent(shop=content.shop, entries=tuple(added)), engine.encoder, engine.settings.index, "built")
    for query in ("包邮吗", "运费多少钱", "偏远地区加运费吗"):
        hits, want = live.search(query, 5), built.search(query, 5)
        assert max(h.lexical for h in hits) > 0, query
        assert {h.entry.id: round(h.lexical, 4) for h in hits} == {h.entry.id: round(h.lexical, 4) for h in want}, query
        by_intent = {h.entry.id: round(h.lexical, 4) for h in live.search_intent(query, "shipping_fee", 5)}
        assert by_intent == {h.entry.id: round(h.lexical, 4) for h in hits}, query  # the same statistics both ways


def test_phrasing_distance_is_the_median_spread_of_an_entrys_questions_in_this_encoders_geometry(engine, content: KBContent) -> None:  # type: ignore[no-untyped-def]
    """The traffic page groups missed messages within this distance: it has to follow the encoder, whose fine-tuning on
    the KB puts one entry's phrasings about twice as far apart as m3e-small as shipped does."""
    entries = [e for e in content.approved() if e.intent == "shipping_fee"][:7]
    expected = []
    for entry in entries:
        vectors = engine.encoder.encode([normalize(q) for q in entry.questions])  # as the index holds them
        n = len(vectors)
        expected.append(1 - float((vectors @ vectors.T)[np.triu_indices(n, 1)].mean()))
    built = KBIndex.build(KBContent(shop=content.shop, entries=tuple(entries)), engine.encoder, engine.settings.index, "built")
    assert built.phrasing_distance() == pytest.approx(float(np.median(expected)), abs=1e-4)
    shipped = Encoder(resolve_encoder("m3e-small"))
    as_shipped = KBIndex.build(KBContent(shop=content.shop, entries=tuple(entries)), shipped, engine.settings.index, "shipped")
    assert as_shipped.phrasing_distance() < 0.75 * built.phrasing_distance()  # no one fixed distance fits both
    single = [replace(e, questions=e.questions[:1]) for e in entries]
    assert KBIndex.build(KBContent(shop=content.shop, entries=tuple(single)), engine.encoder, engine.settings.index, "one").phrasing_distance() is None
    few = KBIndex.build(KBContent(shop=content.shop, entries=tuple(entries[:4])), engine.encoder, engine.settings.index, "few")
    assert few.phrasing_distance() is None  # four entries are too few to tell the encoder's scale


def test_onnx_backends_embed_like_the_shipped_model(tmp_path: Path) -> None:
    texts = ["包邮吗", "今天下单什么时候到", "这个是正品吗？假一赔十吗", "x"]
    reference = Encoder(resolve_encoder("m3e-small"), "torch").encode(texts)
    onnx = Encoder(resolve_encoder("m3e-small"), "onnx", tmp_path).encode(texts)
    int8 = Encoder(resolve_encoder("m3e-small"), "onnx-int8", tmp_path).encode(texts)
    assert np.allclose(onnx, reference, atol=1e-4)
    assert (int8 * reference).sum(axis=1).min() > 0.95
    assert sorted(p.name.split("-", 1)[1] for p in tmp_path.glob("*.onnx")) == ["onnx-int8.onnx", "onnx.onnx"]
    again = Encoder(resolve_encoder("m3e-small"), "onnx", tmp_path)  # the export is reused, not redone
    assert again.fingerprint.endswith("-onnx") and np.allclose(again.encode(texts[:1]), onnx[:1])
    with pytest.raises(BotError, match="backend"):
        Encoder(resolve_encoder("m3e-small"), "tensorrt")


def test_the_faiss_index_is_chosen_by_size_and_hnsw_finds_what_exact_search_finds(engine, content: KBContent, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from bot.index.vectors import dense_kind

    settings = engine.settings.index
    assert dense_kind(settings, settings.exact_max_rows) == "flat" and dense_kind(settings, settings.exact_max_rows + 1) == "hnsw"
    exact, _ = open_index(content, engine.encoder, replace(settings, kind="flat"), tmp_path)
    graph, built = open_index(content, engine.encoder, replace(settings, kind="hnsw"), tmp_path)
    assert built and (exact.dense_kind, graph.dense_kind) == ("flat", "hnsw")
    for query in ("包邮吗", "是正品吗", "今天下单什么时候到", "能便宜点吗", "我要退货"):
        assert [h.entry.id for h in graph.search(query, 3)] == [h.entry.id for h in exact.search(query, 3)]
        assert [h.entry.id for h in graph.search_intent(query, "thanks_goodbye", 2)] == [h.entry.id for h in exact.search_intent(query, "thanks_goodbye", 2)]
    loaded, built_again = open_index(content, engine.encoder, replace(settings, kind="hnsw"), tmp_path)
    assert not built_again and loaded.dense_kind == "hnsw"
    shipping = next(e for e in content.approved() if e.id == "shipping_fee.free_threshold")
    edited = loaded.apply([replace(shipping, questions=shipping.questions + ("可以用花呗付邮费吗",))])
    assert edited.search("能用花呗付邮费吗", 1)[0].entry.id == "shipping_fee.free_threshold"
    with pytest.raises(BotError, match="index.kind"):
        replace(settings, kind="ivf")


def test_hnsw_searches_wider_as_the_graph_grows(engine, content: KBContent, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = engine.settings.index
    assert settings.ef_search(1_000) == settings.hnsw_ef_search and settings.ef_search(4_000_000) == 4_000
    # a graph searched 1 wide misses neighbours; widened by one per row it finds what exact search finds
    narrow = replace(settings, kind="hnsw", hnsw_m=4, hnsw_ef_construction=8, hnsw_ef_search=1, hnsw_rows_per_ef=10**9)
    graph, _ = open_index(content, engine.encoder, narrow, tmp_path)
    exact, _ = open_index(content, engine.encoder, replace(settings, kind="flat"), tmp_path / "exact")
    queries = np.stack([engine.encoder.embed(q) for q in ("包邮吗", "是正品吗", "今天下单什么时候到", "能便宜点吗", "我要退货", "发什么快递")])

    def recall(index: KBIndex) -> float:
        return float(np.mean([len(set(index.dense_search(q, 10)[1][0]) & set(exact.dense_search(q, 10)[1][0])) / 10 for q in queries]))

    narrow_recall = recall(graph)
    graph.settings = replace(narrow, hnsw_rows_per_ef=1)  # the search width is read at search time: no rebuild
    assert narrow_recall < recall(graph) and recall(graph) >= 0.98
    with pytest.raises(BotError, match="positive"):
        replace(settings, hnsw_rows_per_ef=0)


def test_concurrent_embeds_share_encoder_calls_and_each_gets_its_own_vector(engine) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    encoder = engine.encoder
    texts = [f"第{i}件包邮吗" for i in range(48)]
    expected = encoder.encode(texts)
    encoder.clear_cache()
    before = encoder._batcher.batches
    with ThreadPoolExecutor(16) as pool:
        got = list(pool.map(encoder.embed, texts))
    assert np.allclose(np.stack(got), expected, atol=1e-5)
    assert encoder._batcher.batches - before <= len(texts)


def test_a_cached_text_is_answered_while_the_model_runs_a_bulk_build(engine) -> None:  # type: ignore[no-untyped-def]
    """Building another shop's index runs the model on chunks of 8,192 texts; a message seen before is read from the
    cache meanwhile (the cache and the model shared one lock, so it waited for the chunk)."""
    import threading

    encoder = engine.encoder
    cached = encoder.embed("包邮吗")
    answered: list[np.ndarray] = []
    with encoder._model_lock:  # a bulk build's chunk is running
        reader = threading.Thread(target=lambda: answered.append(encoder.embed("包邮吗")))
        reader.start()
        reader.join(timeout=30)
        assert not reader.is_alive(), "a cached text waited for the model"
    assert np.array_equal(answered[0], cached)


def test_an_encoder_failure_reaches_every_caller_in_the_batch() -> None:
    import threading

    from bot.encoder import _Batcher

    started, release = threading.Event(), threading.Event()

    def encode(texts):  # type: ignore[no-untyped-def]
        if texts == ["first"]:
            started.set()
            release.wait(5)
            return np.ones((1, 2), dtype=np.float32)
        raise RuntimeError("encoder died")

    batcher = _Batcher(encode)
    errors: list[str] = []

    def call(text: str) -> None:
        try:
            batcher.embed([text])
        except RuntimeError as exc:
            errors.append(str(exc))

    first = threading.Thread(target=call, args=("first",))
    first.start()
    started.wait(5)
    queued = [threading.Thread(target=call, args=(f"q{i}",)) for i in range(3)]
    for thread in queued:
        thread.start()
    import time

    deadline = time.monotonic() + 5
    while len(batcher._queue) < 3 and time.monotonic() < deadline:  # all three wait behind the running batch
        time.sleep(0.01)
    release.set()
    for thread in [first, *queued]:
        thread.join(5)
    assert errors == ["encoder died"] * 3 and batcher.batches == 2


def test_known_share_tells_random_ideographs_from_buyer_messages(engine) -> None:  # type: ignore[no-untyped-def]
    import random

    rng = random.Random(3)
    noise = ["".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(8)) for _ in range(50)]
    assert max(engine.index.known_share(t) for t in noise) < 0.5
    assert engine.index.known_share("亲，这款有加厚的吗？") >= 0.8
    assert engine.index.known_share("ok thx") == 1.0  # read as 好的 谢谢
    assert engine.index.known_share("12345 !!") is None
