"""BM25 over jieba words and character bigrams (bm25s), with scores normalised to 0..1 per query."""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from bot.segment import lexical_tokens

K1 = 1.2
B = 0.75
COMMON_SHARE = 0.05  # a token in more of the texts than this ...
COMMON_MIN_DOCS = 20_000  # ... and in more texts than this only adds to the scores of candidates


class LexicalIndex:
    """Sparse BM25 over short texts; `scores(query)` is 1.0 for a text holding every query token once.

    Searches never score every text: `top` reads the posting lists of the query's tokens (bm25s's
    token-by-document matrix), and `score_docs_at` looks single texts up in them, so a query costs
    what its tokens' postings cost, not the size of the KB.
    """

    def __init__(self, retriever, n_docs: int, avg_len: float) -> None:  # type: ignore[no-untyped-def]
        self._retriever = retriever
        self._n_docs = n_docs
        self._avg_len = avg_len or 1.0
        self._oov_idf = self._idf(0)
        if retriever is not None:
            self._vocab: dict[str, int] = retriever.vocab_dict
            self._indptr = np.asarray(retriever.scores["indptr"])
            self._indices = np.asarray(retriever.scores["indices"])
            self._data = np.asarray(retriever.scores["data"])
        else:
            self._vocab, self._indptr = {}, np.zeros(1, dtype=np.int64)
            self._indices, self._data = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)

    @classmethod
    def build(cls, texts: Iterable[str], progress: bool = False) -> "LexicalIndex":
        """Tokenise text by text into ids of one shared vocabulary (memory: the ids, not token strings per text)."""
        from tqdm import tqdm

        return cls.of_tokens((tokenize(text) for text in tqdm(texts, desc="tokenising", unit="row", disable=not progress)), progress)

    @classmethod
    def of_tokens(cls, docs: Iterable[Sequence[str]], progress: bool = False) -> "LexicalIndex":
        """The index of texts already tokenised (with `tokenize`)."""
        import bm25s

        vocab: dict[str, int] = {}
        ids: list[list[int]] = []
        total = 0
        for tokens in docs:
            doc = [vocab.setdefault(token, len(vocab)) for token in tokens]
            ids.append(doc)
            total += len(doc)
        if not ids:
            return cls(None, 0, 1.0)
        retriever = bm25s.BM25(k1=K1, b=B, method="lucene")
        retriever.index((ids, vocab), show_progress=progress)
        return cls(retriever, len(ids), total / len(ids))

    @property
    def n_docs(self) -> int:
        return self._n_docs

    @functools.cached_property
    def characters(self) -> frozenset[str]:
        """Every character of the indexed tokens."""
        return frozenset(char for token in self._vocab for char in token)

    def _idf(self, df: int) -> float:
        return math.log(1 + (self._n_docs - df + 0.5) / (df + 0.5))

    def _postings(self, token_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(documents, BM25 contributions) of one token, documents ascending."""
        start, end = self._indptr[token_id], self._indptr[token_id + 1]
        return self._indices[start:end], self._data[start:end]

    def _token_idf(self, token: str) -> float:
        token_id = self._vocab.get(token)
        if token_id is None:
            return self._oov_idf
        return self._idf(int(self._indptr[token_id + 1] - self._indptr[token_id]))

    def _ideal(self, tokens: Sequence[str]) -> float:
        return sum(self._token_idf(t) / (1 + K1) for t in tokens)

    def _query(self, query: str) -> tuple[list[int], float]:
        """The query's distinct known token ids and its ideal score (unknown tokens count in the ideal only)."""
        tokens = list(dict.fromkeys(lexical_tokens(query)))
        if not tokens or self._n_docs == 0:
            return [], 0.0
        return [self._vocab[t] for t in tokens if t in self._vocab], self._ideal(tokens)

    def scores(self, query: str) -> np.ndarray:
        """One score per indexed text: BM25 divided by the score of an ideal average-length match (the baseline's full scan)."""
        token_ids, ideal = self._query(query)
        out = np.zeros(self._n_docs, dtype=np.float32)
        for token_id in token_ids:
            docs, contributions = self._postings(token_id)
            out[docs] += contributions
        return np.clip(out / ideal, 0.0, 1.0) if token_ids else out

    def score_docs_at(self, query: str, docs: np.ndarray) -> np.ndarray:
        """The normalised scores of these indexed texts only (binary search in each token's postings)."""
        token_ids, ideal = self._query(query)
        docs = np.asarray(docs, dtype=np.int64)
        out = np.zeros(len(docs), dtype=np.float32)
        if not token_ids or not len(docs):
            return out
        self._add_lookups(out, token_ids, docs)
        return np.clip(out / ideal, 0.0, 1.0)

    def _add_lookups(self, raw: np.ndarray, token_ids: Sequence[int], docs: np.ndarray) -> None:
        """Add each token's contribution to the scores of these texts, found by binary search in its postings."""
        for token_id in token_ids:
            posting_docs, contributions = self._postings(token_id)
            if not len(posting_docs):
                continue
            at = np.minimum(np.searchsorted(posting_docs, docs), len(posting_docs) - 1)
            found = posting_docs[at] == docs
            raw[found] += contributions[at[found]]

    def top(self, query: str, depth: int) -> np.ndarray:
        """About the `depth` best-scoring texts, without scoring all of them.

        Tokens found in at most COMMON_SHARE of the texts propose candidates; the common ones ("吗",
        "的") only add to candidates' scores, and propose their own best texts when the rare ones
        propose too few. Exact whenever no query token is common, as in any index of up to 20k rows.
        """
        token_ids, _ = self._query(query)
        if not token_ids or depth <= 0:
            return np.zeros(0, dtype=np.int64)
        common_at = max(COMMON_MIN_DOCS, int(COMMON_SHARE * self._n_docs))
        sizes = {t: int(self._indptr[t + 1] - self._indptr[t]) for t in token_ids}
        rare = [t for t in token_ids if sizes[t] <= common_at]
        common = sorted((t for t in token_ids if sizes[t] > common_at), key=sizes.__getitem__)
        if rare:
            postings = [self._postings(t) for t in rare]
            candidates, inverse = np.unique(np.concatenate([d for d, _ in postings]), return_inverse=True)
            raw = np.bincount(inverse, weights=np.concatenate([c for _, c in postings])).astype(np.float32)
        else:
            candidates, raw = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if common and len(candidates) < depth:  # too few: the best texts of the rarest common token join
            docs, contributions = self._postings(common[0])
            best = docs[np.argpartition(-contributions, min(depth, len(docs) - 1))[:depth]]
            extra = np.setdiff1d(best, candidates)
            candidates = np.concatenate([candidates, extra])
            raw = np.concatenate([raw, np.zeros(len(extra), dtype=np.float32)])
        self._add_lookups(raw, common, candidates)
        if len(candidates) > depth:
            candidates = candidates[np.argpartition(-raw, depth - 1)[:depth]]
        return candidates.astype(np.int64)

    def score_docs(self, query: str, docs: Sequence[Sequence[str]]) -> np.ndarray:
        """The same normalised score for texts outside the index (tokenised with `tokenize`), with its statistics.

        Used for entries added since the index was built, so their scores compare with the indexed ones.
        """
        tokens = list(dict.fromkeys(lexical_tokens(query)))
        out = np.zeros(len(docs), dtype=np.float32)
        if not tokens or not docs or self._n_docs == 0:
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
        (directory / "stats.json").write_text(json.dumps({"n_docs": self._n_docs, "avg_len": self._avg_len}), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "LexicalIndex":
        import bm25s

        stats = json.loads((directory / "stats.json").read_text(encoding="utf-8"))
        if stats["n_docs"] == 0:
            return cls(None, 0, 1.0)
        retriever = bm25s.BM25.load(str(directory), show_progress=False, verbosity=0)
        return cls(retriever, stats["n_docs"], stats["avg_len"])


def tokenize(text: str) -> list[str]:
    """The tokens a text is indexed under (empty texts get a placeholder, as in the index)."""
    return lexical_tokens(text) or ["<empty>"]
