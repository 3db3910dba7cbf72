"""BM25 over jieba words and character bigrams (bm25s), with scores normalised to 0..1 per query."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Sequence

import numpy as np

from bot.segment import lexical_tokens

K1 = 1.2
B = 0.75


class LexicalIndex:
    """Sparse BM25 over short texts; `scores(query)` is 1.0 for a text holding every query token once."""

    def __init__(self, retriever, doc_freq: dict[str, int], n_docs: int, avg_len: float) -> None:  # type: ignore[no-untyped-def]
        self._retriever = retriever
        self._doc_freq = doc_freq
        self._n_docs = n_docs
        self._avg_len = avg_len or 1.0
        self._oov_idf = self._idf(0)

    @classmethod
    def build(cls, texts: Sequence[str]) -> "LexicalIndex":
        import bm25s

        if not texts:
            return cls(None, {}, 0, 1.0)
        tokens = [tokenize(t) for t in texts]
        retriever = bm25s.BM25(k1=K1, b=B, method="lucene")
        retriever.index(tokens, show_progress=False)
        doc_freq: dict[str, int] = {}
        for doc in tokens:
            for token in set(doc):
                doc_freq[token] = doc_freq.get(token, 0) + 1
        return cls(retriever, doc_freq, len(texts), sum(map(len, tokens)) / len(tokens))

    def _idf(self, df: int) -> float:
        return math.log(1 + (self._n_docs - df + 0.5) / (df + 0.5))

    def _token_idf(self, token: str) -> float:
        return self._idf(self._doc_freq[token]) if token in self._doc_freq else self._oov_idf

    def _ideal(self, tokens: Sequence[str]) -> float:
        return sum(self._token_idf(t) / (1 + K1) for t in tokens)

    def scores(self, query: str) -> np.ndarray:
        """One score per indexed text: BM25 divided by the score of an ideal average-length match."""
        tokens = list(dict.fromkeys(lexical_tokens(query)))
        if not tokens or self._n_docs == 0:
            return np.zeros(self._n_docs, dtype=np.float32)
        raw = np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)
        return np.clip(raw / self._ideal(tokens), 0.0, 1.0)

    def score_docs(self, query: str, docs: Sequence[Sequence[str]]) -> np.ndarray:
        """The same normalised score for texts outside the index (tokenised with `tokenize`), with its statistics.

        Used for entries added since the index was built, so their scores compare with the indexed ones.
        """
        tokens = list(dict.fromkeys(lexical_tokens(query)))
        out = np.zeros(len(docs), dtype=np.float32)
        if not tokens or not docs:
            return out
        ideal = self._ideal(tokens)
        for i, doc in enumerate(docs):
            length_norm = K1 * (1 - B + B * len(doc) / self._avg_len)
            counts: dict[str, int] = {}
            for token in doc:
                counts[token] = counts.get(token, 0) + 1
            raw = sum(self._token_idf(t) * counts[t] / (counts[t] + length_norm) for t in tokens if t in counts)
            out[i] = min(1.0, raw / ideal)
        return out

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if self._retriever is not None:
            self._retriever.save(str(directory), show_progress=False)
        (directory / "doc_freq.json").write_text(
            json.dumps({"n_docs": self._n_docs, "avg_len": self._avg_len, "doc_freq": self._doc_freq}, ensure_ascii=False),
            encoding="utf-8",
        )

    @classmethod
    def load(cls, directory: Path) -> "LexicalIndex":
        import bm25s

        stats = json.loads((directory / "doc_freq.json").read_text(encoding="utf-8"))
        if stats["n_docs"] == 0:
            return cls(None, {}, 0, 1.0)
        retriever = bm25s.BM25.load(str(directory), show_progress=False, verbosity=0)
        return cls(retriever, stats["doc_freq"], stats["n_docs"], stats["avg_len"])


def tokenize(text: str) -> list[str]:
    """The tokens a text is indexed under (empty texts get a placeholder, as in the index)."""
    return lexical_tokens(text) or ["<empty>"]
