"""BM25 candidates come from posting lists, never a scan of every text, and agree with the full scan."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from bot import lexical
from bot.index.rows import index_rows
from bot.intents import load_intents
from bot.kb.files import read_kb
from bot.lexical import LexicalIndex

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "bench"))
QUERIES = ["包邮吗", "是正品吗", "今天下单什么时候到", "能便宜点吗", "我要退货", "保温杯包邮不", "吗", "你好", "羽绒服有没有运费险啊", "zzz"]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    from synthetic_kb import synthetic_kb

    content = synthetic_kb(read_kb(PROJECT / "kb", load_intents(PROJECT)), 600)
    return [r.text for r in index_rows(content.approved(), content.shop)]


@pytest.fixture(scope="module")
def index(texts: list[str]) -> LexicalIndex:
    return LexicalIndex.build(texts)


def true_top(index: LexicalIndex, query: str, depth: int) -> set[int]:
    scores = index.scores(query)
    order = np.argsort(-scores, kind="stable")[:depth]
    return {int(i) for i in order if scores[i] > 0}


def test_lookups_score_like_the_full_scan(index: LexicalIndex) -> None:
    docs = np.array([0, 5, 17, 100, index.n_docs - 1])
    for query in QUERIES:
        np.testing.assert_allclose(index.score_docs_at(query, docs), index.scores(query)[docs], atol=1e-6)
    assert index.score_docs_at("", docs).tolist() == [0.0] * len(docs)


def test_top_is_exact_when_no_token_is_common(index: LexicalIndex) -> None:
    assert index.n_docs < lexical.COMMON_MIN_DOCS
    for query in QUERIES:
        scores = index.scores(query)
        got = index.top(query, 20)
        want = true_top(index, query, 20)
        assert len(got) == len(want)
        # the same scores (ties may pick different texts of equal score)
        assert sorted(np.round(scores[got], 5)) == sorted(np.round(scores[list(want)], 5)), query
    assert index.top("zzz", 20).tolist() == []


def test_top_with_common_tokens_finds_the_best_texts(index: LexicalIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexical, "COMMON_MIN_DOCS", 30)  # "吗", "包邮" ... now only add to candidates' scores
    recalls = []
    for query in QUERIES[:-1]:
        got = set(index.top(query, 64).tolist())
        want = true_top(index, query, 10)
        if not want:
            continue
        assert len(got) >= min(64, int((index.scores(query) > 0).sum())), query
        recalls.append(len(got & want) / len(want))
        best = int(np.argmax(index.scores(query)))
        assert index.scores(query)[best] == pytest.approx(max(index.scores(query)[list(got)])), query
    assert len(recalls) >= 7 and np.mean(recalls) >= 0.9, recalls


def test_an_empty_index_answers_nothing() -> None:
    empty = LexicalIndex.build([])
    assert empty.top("包邮吗", 10).tolist() == [] and empty.scores("包邮吗").tolist() == []
    assert empty.score_docs_at("包邮吗", np.array([], dtype=np.int64)).tolist() == []


def test_an_index_of_tokenised_texts_is_the_index_of_the_texts(texts: list[str]) -> None:
    from_tokens = LexicalIndex.of_tokens([lexical.tokenize(t) for t in texts[:40]])
    for query in [*QUERIES, texts[0]]:
        np.testing.assert_allclose(from_tokens.scores(query), LexicalIndex.build(texts[:40]).scores(query))


def test_saved_and_loaded_it_answers_the_same(index: LexicalIndex, tmp_path: Path) -> None:
    index.save(tmp_path / "lexical")
    loaded = LexicalIndex.load(tmp_path / "lexical")
    for query in QUERIES:
        np.testing.assert_allclose(loaded.scores(query), index.scores(query))
        assert loaded.top(query, 10).tolist() == index.top(query, 10).tolist()


def test_a_decimal_number_is_one_token_apart_from_its_digits() -> None:
    from bot.segment import lexical_tokens

    assert "59.9" in lexical_tokens("满59.9包邮吗") and "599" not in lexical_tokens("满59.9包邮吗")
    assert "599" in lexical_tokens("满599包邮吗")
    assert "." not in "".join(lexical_tokens("包邮吗.好的"))  # a full stop is not part of a word
