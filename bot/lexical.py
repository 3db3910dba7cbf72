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

    def __init__(self, retriever, doc_freq: dict[str, int], n_docs: int) -> None:  # type: ignore[no-untyped-def]
        self._retriever = retriever
        self._doc_freq = doc_freq
        self._n_docs = n_docs
        self._oov_idf = self._idf(0)

    @classmethod
    def build(cls, texts: Sequence[str]) -> "LexicalIndex":
        import bm25s

        if not texts:
            return cls(None, {}, 0)
        tokens = [lexical_tokens(t) or ["<empty>"] for t in texts]
        retriever = bm25s.BM25(k1=K1, b=B, method="lucene")
        retriever.index(tokens, show_progress=False)
        doc_freq: dict[str, int] = {}
        for doc in tokens:
            for token in set(doc):
                doc_freq[token] = doc_freq.get(token, 0) + 1
        return cls(retriever, doc_freq, len(texts))

    def _idf(self, df: int) -> float:
        return math.log(1 + (self._n_docs - df + 0.5) / (df + 0.5))

    def scores(self, query: str) -> np.ndarray:
        """One score per indexed text: BM25 divided by the score of an ideal average-length match."""
        tokens = list(dict.fromkeys(lexical_tokens(query)))
        if not tokens or self._n_docs == 0:
            return np.zeros(self._n_docs, dtype=np.float32)
        raw = np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)
        ideal = sum(
            (self._idf(self._doc_freq[t]) if t in self._doc_freq else self._oov_idf) / (1 + K1) for t in tokens
        )
        return np.clip(raw / ideal, 0.0, 1.0)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if self._retriever is not None:
            self._retriever.save(str(directory), show_progress=False)
        (directory / "doc_freq.json").write_text(
            json.dumps({"n_docs": self._n_docs, "doc_freq": self._doc_freq}, ensure_ascii=False), encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path) -> "LexicalIndex":
        import bm25s

        stats = json.loads((directory / "doc_freq.json").read_text(encoding="utf-8"))
        if stats["n_docs"] == 0:
            return cls(None, {}, 0)
        retriever = bm25s.BM25.load(str(directory), show_progress=False, verbosity=0)
        return cls(retriever, stats["doc_freq"], stats["n_docs"])
