"""Search approved entries by meaning (faiss) and by words (BM25), and make approved edits live (`KBIndex.apply`)."""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from bot.encoder import Encoder
from bot.index.overlay import Overlay
from bot.index.rows import QUESTION, Row, index_rows
from bot.index.vectors import VectorSource, fill_dense, new_dense
from bot.kb import Entry, KBContent
from bot.lexical import LexicalIndex
from bot.normalize import normalize
from bot.segment import is_chinese
from bot.settings import IndexSettings

INTENT_SCAN_MAX_ROWS = 4096  # search_intent scores every row of an intent up to this many, else the nearest
ROW_BYTES = 1500  # estimated memory a row holds beside its vector (text, BM25 postings, objects); see memory_bytes
PHRASING_MAX_ROWS = 20_000  # phrasing_distance reads about this many question rows, of entries across the KB
PHRASING_MIN_ENTRIES = 5  # and needs this many entries of two questions or more


@dataclass(frozen=True)
class Hit:
    """One entry found for a query, with the phrasing that matched it best."""

    entry: Entry
    score: float
    dense: float
    lexical: float
    matched: str
    matched_kind: str


class KBIndex:
    """Search approved entries by meaning (faiss) and by words (BM25); one row per question and answer.

    A built index is immutable. Approved edits make a new KBIndex (`apply`) that shares the built part,
    hides the entries that changed and searches their new versions in a small overlay, so an edit is
    live in milliseconds; `compact` folds the overlay into a fresh build, reusing every vector it has.
    """

    def __init__(
        self,
        entries: Sequence[Entry],
        rows: Sequence[Row],
        dense,  # type: ignore[no-untyped-def]
        lexical: LexicalIndex,
        encoder: Encoder,
        settings: IndexSettings,
        fingerprint: str,
        shop: dict[str, str] | None = None,
    ) -> None:
        self.entries = tuple(entries)  # the built part, including entries the overlay hides
        self.rows = tuple(rows)
        self._row_entry = np.array([r.entry_index for r in rows], dtype=np.int64)
        self._position = {e.id: i for i, e in enumerate(self.entries)}
        self.dense = dense
        self.lexical = lexical
        self.encoder = encoder
        self.settings = settings
        self.fingerprint = fingerprint
        self.shop = dict(shop or {})
        self._hidden_entries = np.zeros(len(self.entries), dtype=bool)
        self._hidden_count = 0  # of _hidden_entries, counted once per edit: len() answers the event loop's health check
        self._hidden_rows = np.zeros(len(self.rows), dtype=bool)
        self._hidden_row_count = 0  # of _hidden_rows, also counted once per edit: every search needs it
        self._overlay = Overlay.empty(encoder.dimension)
        self._intent_rows: dict[str, np.ndarray] | None = None  # built rows by intent, for search_intent

    def __len__(self) -> int:
        return len(self.entries) - self._hidden_count + len(self._overlay.entries)

    @property
    def memory_bytes(self) -> int:
        """About what this index holds in memory, for the shops' memory budget: each row's vector, and ROW_BYTES for
        its text, BM25 postings and Python objects (an estimate, not a measurement)."""
        return (len(self.rows) + len(self._overlay.entries) * 4) * (self.encoder.dimension * 4 + ROW_BYTES)

    @property
    def overlay_size(self) -> int:
        """How many entries changed since the build (searched in the overlay)."""
        return self._hidden_count + len(self._overlay.entries)

    def entry(self, entry_id: str) -> Entry | None:
        """A live entry by id (its overlay version when it changed since the build), without scanning the KB."""
        changed = next((e for e in self._overlay.entries if e.id == entry_id), None)
        if changed is not None:
            return changed
        position = self._position.get(entry_id)
        return None if position is None or self._hidden_entries[position] else self.entries[position]

    def live_entries(self) -> tuple[Entry, ...]:
        """Every entry this index suggests, sorted by id."""
        built = (e for e, hidden in zip(self.entries, self._hidden_entries) if not hidden)
        return tuple(sorted((*built, *self._overlay.entries), key=lambda e: e.id))

    @classmethod
    def build(
        cls,
        content: KBContent,
        encoder: Encoder,
        settings: IndexSettings,
        fingerprint: str,
        progress: bool = False,
        reuse: VectorSource | None = None,
    ) -> "KBIndex":
        """Embed every row (taking vectors `reuse` already has) and index them in faiss and BM25."""
        entries = content.approved()
        rows = index_rows(entries, content.shop)
        texts = [r.text for r in rows]
        dense = new_dense(settings, encoder.dimension, len(rows))
        fill_dense(dense, encoder, texts, reuse, progress)
        lexical = LexicalIndex.build(texts, progress=progress)
        return cls(entries, rows, dense, lexical, encoder, settings, fingerprint, content.shop)

    def apply(self, upserts: Sequence[Entry], removed: Iterable[str] = ()) -> "KBIndex":
        """A new index with these entries' new versions live and the removed ones gone; this one is unchanged."""
        changed = {e.id for e in upserts} | set(removed)
        live = [e for e in upserts if e.approved]
        new = copy.copy(self)
        new._hidden_entries = self._hidden_entries.copy()
        for entry_id in changed:
            position = self._position.get(entry_id)
            if position is not None:
                new._hidden_entries[position] = True
        new._hidden_count = int(new._hidden_entries.sum())
        new._hidden_rows = new._hidden_entries[self._row_entry] if len(self.rows) else self._hidden_rows
        new._hidden_row_count = int(new._hidden_rows.sum())
        new._overlay = self._overlay.replace(changed, live, self.shop, self.encoder, reuse=self)
        return new

    def compact(self, content: KBContent, fingerprint: str) -> "KBIndex":
        """A fresh build of this content with no overlay, re-embedding only texts this index lacks."""
        return KBIndex.build(content, self.encoder, self.settings, fingerprint, reuse=self)

    def phrasing_distance(self) -> float | None:
        """How far apart the encoder puts two phrasings of one question: over the built entries with two questions or
        more, the median of each entry's mean pairwise cosine distance (entries taken evenly across the KB up to
        PHRASING_MAX_ROWS question rows). None with fewer than PHRASING_MIN_ENTRIES such entries: too few to tell.
        The encoder sets this scale: m3e-small as shipped puts the seed KB's phrasings about 0.21 apart, fine-tuned on
        the KB about 0.42 (its unrelated texts move apart further still)."""
        return self._phrasing_distance

    @functools.cached_property
    def _phrasing_distance(self) -> float | None:  # measured once per index, the first time the traffic page asks
        by_entry: dict[int, list[int]] = {}
        for i, row in enumerate(self.rows):
            if row.kind == QUESTION:
                by_entry.setdefault(row.entry_index, []).append(i)
        groups = [ids for ids in by_entry.values() if len(ids) >= 2]
        if len(groups) < PHRASING_MIN_ENTRIES:
            return None
        step = -(-sum(map(len, groups)) // PHRASING_MAX_ROWS)  # every step-th entry: all intents, not the first ones
        groups = groups[::step]
        vectors = self.dense.reconstruct_batch(np.array([i for ids in groups for i in ids], dtype=np.int64))
        distances, start = [], 0
        for ids in groups:
            n = len(ids)
            total = vectors[start:start + n].sum(axis=0)
            start += n
            mean_similarity = (float(total @ total) - n) / (n * (n - 1))  # unit vectors: the off-diagonal mean
            distances.append(1.0 - mean_similarity)
        return float(np.median(distances))

    def vectors_for(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(found mask, vectors) for texts this index already embedded (rows of the build or the overlay)."""
        if not hasattr(self, "_text_row"):
            self._text_row = {r.text: i for i, r in enumerate(self.rows)}
        found = np.zeros(len(texts), dtype=bool)
        vectors = np.zeros((len(texts), self.encoder.dimension), dtype=np.float32)
        built = [(i, self._text_row[t]) for i, t in enumerate(texts) if t in self._text_row]
        if built:
            ids = np.array([row for _, row in built], dtype=np.int64)
            vectors[[i for i, _ in built]] = self.dense.reconstruct_batch(ids)
            found[[i for i, _ in built]] = True
        overlay_rows = {r.text: i for i, r in enumerate(self._overlay.rows)}
        for i, text in enumerate(texts):
            if not found[i] and text in overlay_rows:
                vectors[i] = self._overlay.vectors[overlay_rows[text]]
                found[i] = True
        return found, vectors

    def known_share(self, text: str) -> float | None:
        """The share of the text's Chinese characters that occur somewhere in the KB (None without any): random
        ideographs score far lower than any real message."""
        chars = [c for c in normalize(text) if is_chinese(c)]
        if not chars:
            return None
        known, overlay = self.lexical.characters, self._overlay.characters
        return sum(c in known or c in overlay for c in chars) / len(chars)

    def search(self, query: str, k: int = 10, query_vector: np.ndarray | None = None) -> list[Hit]:
        """The k best entries for a query, best first; scores fuse cosine and normalised BM25."""
        if k <= 0 or len(self) == 0:
            return []
        query = normalize(query)
        if query_vector is None:
            query_vector = self.encoder.embed(query)
        entries, rows, dense, lexical = self._built_candidates(query, query_vector, k)
        if self._overlay.entries:
            o_dense = np.clip(self._overlay.vectors @ query_vector, -1.0, 1.0)
            o_lexical = self._overlay_lexical(query)
            entries = entries + [self._overlay.entries[r.entry_index] for r in self._overlay.rows]
            rows = rows + list(self._overlay.rows)
            dense = np.concatenate([dense, o_dense])
            lexical = np.concatenate([lexical, o_lexical])
        return self._best(entries, rows, dense, lexical, k)

    def search_intent(self, query: str, intent: str, k: int = 3, query_vector: np.ndarray | None = None) -> list[Hit]:
        """The k best entries of one intent, scored like `search`: every row of that intent, not just the nearest.

        The engine asks for these when the dialogue model says which reply comes next ("好的" after an
        answer: the closing script) and the message's own words did not retrieve it.
        """
        if k <= 0 or len(self) == 0:
            return []
        query = normalize(query)
        if query_vector is None:
            query_vector = self.encoder.embed(query)
        built = self._rows_of_intent(intent)
        built = built[~self._hidden_rows[built]] if len(built) else built
        if len(built) > INTENT_SCAN_MAX_ROWS:  # a large KB: the nearest rows of this intent, by faiss and by BM25
            _, ids = self.dense_search(query_vector, INTENT_SCAN_MAX_ROWS // 4, allowed=built)
            by_words = np.intersect1d(self.lexical.top(query, INTENT_SCAN_MAX_ROWS), built)
            built = np.unique(np.concatenate([ids[0][ids[0] >= 0], by_words]))
        dense = np.clip(self.dense.reconstruct_batch(built) @ query_vector, -1.0, 1.0) if len(built) else np.zeros(0, np.float32)
        lexical = self.lexical.score_docs_at(query, built)
        rows = [self.rows[int(i)] for i in built]
        entries = [self.entries[r.entry_index] for r in rows]
        overlay = [i for i, r in enumerate(self._overlay.rows) if self._overlay.entries[r.entry_index].intent == intent]
        if overlay:
            o_rows = [self._overlay.rows[i] for i in overlay]
            entries += [self._overlay.entries[r.entry_index] for r in o_rows]
            rows += o_rows
            dense = np.concatenate([dense, np.clip(self._overlay.vectors[overlay] @ query_vector, -1.0, 1.0)])
            lexical = np.concatenate([lexical, self._overlay_lexical(query)[overlay]])
        return self._best(entries, rows, dense, lexical, k)

    def _overlay_lexical(self, query: str) -> np.ndarray:
        """BM25 of every overlay row, with the build's statistics so that they compare with the built rows'; a KB built
        empty has none, and its first entries are scored with the overlay's own (they had scored 0 until compaction)."""
        if self.lexical.n_docs == 0:
            return self._overlay.lexical.scores(query)
        return self.lexical.score_docs(query, self._overlay.tokens)

    def dense_search(self, query_vector: np.ndarray, depth: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """faiss search for the `depth` nearest rows (only `allowed` rows when given); HNSW looks at least that wide."""
        import faiss

        selector = faiss.IDSelectorBatch(allowed.astype(np.int64)) if allowed is not None else None
        if self.dense_kind == "hnsw":
            params = faiss.SearchParametersHNSW(efSearch=max(self.settings.ef_search(self.dense.ntotal), depth), sel=selector)
        else:
            params = faiss.SearchParameters(sel=selector) if selector is not None else None
        return self.dense.search(query_vector.reshape(1, -1), depth, params=params)

    @property
    def dense_kind(self) -> str:
        import faiss

        return "hnsw" if isinstance(self.dense, faiss.IndexHNSW) else "flat"

    def _rows_of_intent(self, intent: str) -> np.ndarray:
        """Row numbers of the built part whose entry has this intent (computed once per build)."""
        if self._intent_rows is None:
            by_intent: dict[str, list[int]] = {}
            for i, row in enumerate(self.rows):
                by_intent.setdefault(self.entries[row.entry_index].intent, []).append(i)
            self._intent_rows = {name: np.array(ids, dtype=np.int64) for name, ids in by_intent.items()}
        return self._intent_rows.get(intent, np.zeros(0, dtype=np.int64))

    def _best(self, entries: list[Entry], rows: list[Row], dense: np.ndarray, lexical: np.ndarray, k: int) -> list[Hit]:
        """Fuse the two scores per row and keep each entry's best row, best entries first."""
        is_question = np.array([r.kind == QUESTION for r in rows], dtype=bool)
        row_weight = np.where(is_question, 1.0, self.settings.answer_weight)
        fused = (self.settings.dense_weight * dense + self.settings.lexical_weight * lexical) * row_weight
        hits: dict[str, Hit] = {}
        for position in np.argsort(-fused, kind="stable"):
            entry = entries[position]
            if entry.id not in hits:
                row = rows[position]
                hits[entry.id] = Hit(entry, float(fused[position]), float(dense[position]), float(lexical[position]), row.text, row.kind)
                if len(hits) == k:
                    break
        return list(hits.values())

    def _built_candidates(self, query: str, query_vector: np.ndarray, k: int) -> tuple[list[Entry], list[Row], np.ndarray, np.ndarray]:
        """The best rows of the built part by cosine and by BM25 (hidden entries skipped), with both scores."""
        n_rows = len(self.rows)
        if n_rows == 0:
            return [], [], np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.float32)
        n_hidden = self._hidden_row_count
        depth = min(n_rows, max(64, 8 * k) + n_hidden)
        _, dense_ids = self.dense_search(query_vector, depth)
        lexical_ids = self.lexical.top(query, depth)
        candidates = np.unique(np.concatenate([dense_ids[0][dense_ids[0] >= 0], lexical_ids]))
        if n_hidden:
            candidates = candidates[~self._hidden_rows[candidates]]
        vectors = self.dense.reconstruct_batch(candidates.astype(np.int64))
        dense = np.clip(vectors @ query_vector, -1.0, 1.0)
        lexical = self.lexical.score_docs_at(query, candidates)
        rows = [self.rows[int(c)] for c in candidates]
        entries = [self.entries[r.entry_index] for r in rows]
        return entries, rows, dense, lexical
