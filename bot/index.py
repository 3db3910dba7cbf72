"""The retrieval index over approved KB entries: faiss (inner product on normalised vectors) fused with BM25."""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Protocol, Sequence

import numpy as np

from bot.encoder import Encoder
from bot.kb import Entry, KBContent
from bot.kb.template import fill
from bot.lexical import LexicalIndex, tokenize
from bot.normalize import VERSION as NORMALIZE_VERSION
from bot.normalize import normalize
from bot.private import private_dir
from bot.segment import is_chinese, load_user_dicts
from bot.settings import IndexSettings, Settings
from bot.shops import DEFAULT_SHOP

FORMAT_VERSION = 4
BUILD_CHUNK = 8192  # rows embedded and added to faiss at a time
QUESTION, ANSWER = "question", "answer"
INTENT_SCAN_MAX_ROWS = 4096  # search_intent scores every row of an intent up to this many, else the nearest
ROW_BYTES = 1500  # estimated memory a row holds beside its vector (text, BM25 postings, objects); see memory_bytes


@dataclass(frozen=True)
class Hit:
    """One entry found for a query, with the phrasing that matched it best."""

    entry: Entry
    score: float
    dense: float
    lexical: float
    matched: str
    matched_kind: str


@dataclass(frozen=True)
class Row:
    entry: int
    kind: str
    text: str


@dataclass(frozen=True)
class _Overlay:
    """Entries approved since the build: searched exhaustively (they are few), scored like the built rows."""

    entries: tuple[Entry, ...]
    rows: tuple[Row, ...]
    vectors: np.ndarray
    tokens: tuple[list[str], ...]

    @functools.cached_property
    def characters(self) -> frozenset[str]:
        """Every character of the overlay's tokens (found once per overlay, not per message)."""
        return frozenset(c for tokens in self.tokens for token in tokens for c in token)

    @classmethod
    def empty(cls, dimension: int) -> "_Overlay":
        return cls((), (), np.zeros((0, dimension), dtype=np.float32), ())

    def replace(self, changed: set[str], live: Sequence[Entry], shop: dict[str, str], encoder: Encoder, reuse: "KBIndex") -> "_Overlay":
        kept = [e for e in self.entries if e.id not in changed] + list(live)
        rows = index_rows(kept, shop)
        old = {(self.entries[r.entry].id, r.kind, r.text): i for i, r in enumerate(self.rows)}
        keys = [(kept[r.entry].id, r.kind, r.text) for r in rows]
        vectors = np.zeros((len(rows), encoder.dimension), dtype=np.float32)
        tokens: list[list[str] | None] = [None] * len(rows)
        todo = []
        for i, key in enumerate(keys):
            if key in old:
                vectors[i] = self.vectors[old[key]]
                tokens[i] = self.tokens[old[key]]
            else:
                todo.append(i)
        if todo:
            vectors[todo] = _embed(encoder, [rows[i].text for i in todo], reuse)
            for i in todo:
                tokens[i] = tokenize(rows[i].text)
        return _Overlay(tuple(kept), tuple(rows), vectors, tuple(t or [] for t in tokens))


class VectorSource(Protocol):
    """Anything that already has vectors for some texts: a live index, a saved one, a benchmark's cache."""

    def vectors_for(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]: ...


class SavedVectors:
    """The vectors of an index saved on disk, by text, without loading its BM25 part (which may be an older format)."""

    def __init__(self, directory: Path, encoder: Encoder) -> None:
        import faiss

        meta = json.loads((directory / "rows.json").read_text(encoding="utf-8"))
        if meta.get("encoder") != encoder.fingerprint:
            raise ValueError(f"{directory} was built with another encoder")
        self._row = {r["text"]: i for i, r in enumerate(meta["rows"])}
        self._dense = faiss.read_index(str(directory / "dense.faiss"))
        self._dimension = encoder.dimension

    def vectors_for(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        found = np.array([t in self._row for t in texts], dtype=bool)
        vectors = np.zeros((len(texts), self._dimension), dtype=np.float32)
        if found.any():
            vectors[found] = self._dense.reconstruct_batch(np.array([self._row[t] for t in texts if t in self._row], dtype=np.int64))
        return found, vectors

    @classmethod
    def latest(cls, index_dir: Path, encoder: Encoder) -> "SavedVectors | None":
        """The most recently saved index's vectors, when one is readable."""
        saved = sorted((d for d in index_dir.iterdir() if d.is_dir() and not d.name.startswith(".")), key=lambda d: d.stat().st_mtime) if index_dir.is_dir() else []
        try:
            return cls(saved[-1], encoder) if saved else None
        except (OSError, ValueError, KeyError, TypeError, RuntimeError):
            return None


def _embed(encoder: Encoder, texts: Sequence[str], reuse: VectorSource | None) -> np.ndarray:
    """Vectors for texts, taking those another index already computed and encoding only the rest."""
    if reuse is None or not texts:
        return encoder.encode(list(texts))
    found, vectors = reuse.vectors_for(texts)
    missing = np.flatnonzero(~found)
    if len(missing):
        vectors[missing] = encoder.encode([texts[i] for i in missing])
    return vectors


def dense_kind(settings: IndexSettings, n_rows: int) -> str:
    """Exact search while it is cheap enough; a graph (HNSW) above `exact_max_rows` rows."""
    if settings.kind in ("flat", "hnsw"):
        return settings.kind
    return "flat" if n_rows <= settings.exact_max_rows else "hnsw"


def _new_dense(settings: IndexSettings, dimension: int, n_rows: int):  # type: ignore[no-untyped-def]
    import faiss

    if dense_kind(settings, n_rows) == "flat":
        return faiss.IndexFlatIP(dimension)
    dense = faiss.IndexHNSWFlat(dimension, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    dense.hnsw.efConstruction = settings.hnsw_ef_construction
    dense.hnsw.efSearch = settings.ef_search(n_rows)
    return dense


def _fill_dense(dense, encoder: Encoder, texts: Sequence[str], reuse: VectorSource | None, progress: bool) -> None:  # type: ignore[no-untyped-def]
    """Embed and add the rows chunk by chunk: memory stays at the index plus one chunk, with one progress bar."""
    from tqdm import tqdm

    with tqdm(total=len(texts), desc="indexing", unit="row", disable=not progress, smoothing=0.05) as bar:
        for start in range(0, len(texts), BUILD_CHUNK):
            chunk = texts[start:start + BUILD_CHUNK]
            dense.add(_embed(encoder, chunk, reuse))
            bar.update(len(chunk))


def kb_fingerprint(content: KBContent, encoder_fingerprint: str, extra: str = "") -> str:
    """Changes whenever what the index holds would change: approved entries, shop facts, encoder, format."""
    payload = json.dumps(
        {
            "format": FORMAT_VERSION,
            "normalize": NORMALIZE_VERSION,
            "encoder": encoder_fingerprint,
            "shop": content.shop,
            "entries": [asdict(e) for e in content.approved()],
            "extra": extra,
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:20]


def index_rows(entries: Sequence[Entry], shop: dict[str, str]) -> list[Row]:
    """One row per question and one for the filled answer of each entry, in entry order, normalised as queries are."""
    rows: list[Row] = []
    for i, entry in enumerate(entries):
        rows.extend(Row(i, QUESTION, normalize(q)) for q in entry.questions)
        rows.append(Row(i, ANSWER, normalize(fill(entry.answer, shop).text)))
    return rows


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
        self._row_entry = np.array([r.entry for r in rows], dtype=np.int64)
        self._is_question = np.array([r.kind == QUESTION for r in rows], dtype=bool)
        self._position = {e.id: i for i, e in enumerate(self.entries)}
        self._dense = dense
        self._lexical = lexical
        self.encoder = encoder
        self.settings = settings
        self.fingerprint = fingerprint
        self.shop = dict(shop or {})
        self._hidden_entries = np.zeros(len(self.entries), dtype=bool)
        self._hidden_rows = np.zeros(len(self.rows), dtype=bool)
        self._overlay = _Overlay.empty(encoder.dimension)
        self._intent_rows: dict[str, np.ndarray] | None = None  # built rows by intent, for search_intent

    def __len__(self) -> int:
        return len(self.entries) - int(self._hidden_entries.sum()) + len(self._overlay.entries)

    @property
    def memory_bytes(self) -> int:
        """About what this index holds in memory, for the shops' memory budget: each row's vector, and ROW_BYTES for
        its text, BM25 postings and Python objects (an estimate, not a measurement)."""
        return (len(self.rows) + len(self._overlay.entries) * 4) * (self.encoder.dimension * 4 + ROW_BYTES)

    @property
    def overlay_size(self) -> int:
        """How many entries changed since the build (searched in the overlay)."""
        return int(self._hidden_entries.sum()) + len(self._overlay.entries)

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
        dense = _new_dense(settings, encoder.dimension, len(rows))
        _fill_dense(dense, encoder, texts, reuse, progress)
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
        new._hidden_rows = new._hidden_entries[self._row_entry] if len(self.rows) else self._hidden_rows
        new._overlay = self._overlay.replace(changed, live, self.shop, self.encoder, reuse=self)
        return new

    def compact(self, content: KBContent, fingerprint: str) -> "KBIndex":
        """A fresh build of this content with no overlay, re-embedding only texts this index lacks."""
        return KBIndex.build(content, self.encoder, self.settings, fingerprint, reuse=self)

    def vectors_for(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(found mask, vectors) for texts this index already embedded (rows of the build or the overlay)."""
        if not hasattr(self, "_text_row"):
            self._text_row = {r.text: i for i, r in enumerate(self.rows)}
        found = np.zeros(len(texts), dtype=bool)
        vectors = np.zeros((len(texts), self.encoder.dimension), dtype=np.float32)
        built = [(i, self._text_row[t]) for i, t in enumerate(texts) if t in self._text_row]
        if built:
            ids = np.array([row for _, row in built], dtype=np.int64)
            vectors[[i for i, _ in built]] = self._dense.reconstruct_batch(ids)
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
        known, overlay = self._lexical.characters, self._overlay.characters
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
            o_lexical = self._lexical.score_docs(query, self._overlay.tokens)
            entries = entries + [self._overlay.entries[r.entry] for r in self._overlay.rows]
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
            _, ids = self._dense_search(query_vector, INTENT_SCAN_MAX_ROWS // 4, allowed=built)
            by_words = np.intersect1d(self._lexical.top(query, INTENT_SCAN_MAX_ROWS), built)
            built = np.unique(np.concatenate([ids[0][ids[0] >= 0], by_words]))
        dense = np.clip(self._dense.reconstruct_batch(built) @ query_vector, -1.0, 1.0) if len(built) else np.zeros(0, np.float32)
        lexical = self._lexical.score_docs_at(query, built)
        rows = [self.rows[int(i)] for i in built]
        entries = [self.entries[r.entry] for r in rows]
        overlay = [i for i, r in enumerate(self._overlay.rows) if self._overlay.entries[r.entry].intent == intent]
        if overlay:
            o_rows = [self._overlay.rows[i] for i in overlay]
            entries += [self._overlay.entries[r.entry] for r in o_rows]
            rows += o_rows
            dense = np.concatenate([dense, np.clip(self._overlay.vectors[overlay] @ query_vector, -1.0, 1.0)])
            lexical = np.concatenate([lexical, self._lexical.score_docs(query, [self._overlay.tokens[i] for i in overlay])])
        return self._best(entries, rows, dense, lexical, k)

    def _dense_search(self, query_vector: np.ndarray, depth: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """faiss search for the `depth` nearest rows (only `allowed` rows when given); HNSW looks at least that wide."""
        import faiss

        selector = faiss.IDSelectorBatch(allowed.astype(np.int64)) if allowed is not None else None
        if self.dense_kind == "hnsw":
            params = faiss.SearchParametersHNSW(efSearch=max(self.settings.ef_search(self._dense.ntotal), depth), sel=selector)
        else:
            params = faiss.SearchParameters(sel=selector) if selector is not None else None
        return self._dense.search(query_vector.reshape(1, -1), depth, params=params)

    @property
    def dense_kind(self) -> str:
        import faiss

        return "hnsw" if isinstance(self._dense, faiss.IndexHNSW) else "flat"

    def _rows_of_intent(self, intent: str) -> np.ndarray:
        """Row numbers of the built part whose entry has this intent (computed once per build)."""
        if self._intent_rows is None:
            by_intent: dict[str, list[int]] = {}
            for i, row in enumerate(self.rows):
                by_intent.setdefault(self.entries[row.entry].intent, []).append(i)
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
        n_hidden = int(self._hidden_rows.sum())
        depth = min(n_rows, max(64, 8 * k) + n_hidden)
        _, dense_ids = self._dense_search(query_vector, depth)
        lexical_ids = self._lexical.top(query, depth)
        candidates = np.unique(np.concatenate([dense_ids[0][dense_ids[0] >= 0], lexical_ids]))
        if n_hidden:
            candidates = candidates[~self._hidden_rows[candidates]]
        vectors = self._dense.reconstruct_batch(candidates.astype(np.int64))
        dense = np.clip(vectors @ query_vector, -1.0, 1.0)
        lexical = self._lexical.score_docs_at(query, candidates)
        rows = [self.rows[int(c)] for c in candidates]
        entries = [self.entries[r.entry] for r in rows]
        return entries, rows, dense, lexical

    # -- persistence -------------------------------------------------------------------------

    def save(self, index_dir: Path) -> Path:
        """Write to a temporary directory, then rename it into place: never a half-written index."""
        import faiss

        if self.overlay_size:
            raise ValueError("compact the index before saving it")
        private_dir(index_dir)
        final = index_dir / self.fingerprint
        tmp = index_dir / f".{self.fingerprint}.{os.getpid()}.{time.time_ns()}.tmp"
        tmp.mkdir()
        faiss.write_index(self._dense, str(tmp / "dense.faiss"))
        self._lexical.save(tmp / "lexical")
        (tmp / "rows.json").write_text(
            json.dumps(
                {
                    "fingerprint": self.fingerprint,
                    "encoder": self.encoder.fingerprint,
                    "shop": self.shop,
                    "entries": [asdict(e) for e in self.entries],
                    "rows": [asdict(r) for r in self.rows],
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        if final.exists():
            shutil.rmtree(tmp)
        else:
            tmp.rename(final)
        for other in index_dir.iterdir():  # older builds of this KB go; hidden ones are not builds (temporaries, .shops)
            if other.name != self.fingerprint and not other.name.startswith(".") and other.is_dir():
                shutil.rmtree(other, ignore_errors=True)
        return final

    @classmethod
    def load(cls, directory: Path, encoder: Encoder, settings: IndexSettings) -> "KBIndex":
        import faiss

        meta = json.loads((directory / "rows.json").read_text(encoding="utf-8"))
        entries = [Entry(**{**e, "tags": tuple(e["tags"]), "questions": tuple(e["questions"])}) for e in meta["entries"]]
        rows = [Row(**r) for r in meta["rows"]]
        dense = faiss.read_index(str(directory / "dense.faiss"))
        lexical = LexicalIndex.load(directory / "lexical")
        if meta.get("encoder") != encoder.fingerprint:
            raise ValueError(f"{directory} was built with another encoder")
        return cls(entries, rows, dense, lexical, encoder, settings, meta["fingerprint"], meta["shop"])


def remove_dead_temporaries(index_dir: Path) -> list[Path]:
    """Delete temporary index directories left by a process that died mid-save (kill -9, power loss); returns them."""
    removed = []
    for tmp in index_dir.glob(".*.tmp") if index_dir.is_dir() else ():
        parts = tmp.name.split(".")
        pid = int(parts[2]) if len(parts) >= 5 and parts[2].isdigit() else None
        if pid is None or not _alive(pid):
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _dense_spec(settings: IndexSettings) -> str:
    """The settings that change what faiss stores: a change rebuilds the index."""
    return f"|{settings.kind}:{settings.exact_max_rows}:{settings.hnsw_m}:{settings.hnsw_ef_construction}"


def _try_load(directory: Path, encoder: Encoder, settings: IndexSettings) -> KBIndex | None:
    if not (directory / "rows.json").exists():
        return None
    try:
        return KBIndex.load(directory, encoder, settings)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError):
        return None


def open_index(
    content: KBContent,
    encoder: Encoder,
    settings: IndexSettings,
    index_dir: Path,
    extra_fingerprint: str = "",
    progress: bool = False,
    reuse: VectorSource | None = None,
) -> tuple[KBIndex, bool]:
    """The index for this KB and encoder: loaded when one is on disk, else built and saved. Returns (index, built).

    A build takes the vectors of `reuse` or of the last index saved on disk, so only new texts are encoded.
    """
    fingerprint = kb_fingerprint(content, encoder.fingerprint, extra_fingerprint + _dense_spec(settings))
    remove_dead_temporaries(index_dir)
    directory = index_dir / fingerprint
    loaded = _try_load(directory, encoder, settings)
    if loaded is not None:
        return loaded, False
    shutil.rmtree(directory, ignore_errors=True)  # unreadable or half there: rebuild below
    if reuse is None:
        reuse = SavedVectors.latest(index_dir, encoder)
    index = KBIndex.build(content, encoder, settings, fingerprint, progress=progress, reuse=reuse)
    index.save(index_dir)
    return index, True


def dictionary_fingerprint(dict_dir: Path) -> str:
    """The jieba user dictionaries change the lexical tokens, so they are part of the index identity."""
    digest = hashlib.sha256()
    for path in sorted(Path(dict_dir).glob("*.txt")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def index_for(
    settings: Settings, content: KBContent, encoder: Encoder, progress: bool = False, reuse: VectorSource | None = None,
    shop: str = DEFAULT_SHOP,
) -> tuple[KBIndex, bool]:
    """The project's index for this shop's KB, under settings.index_dir (another shop's in its own folder there)."""
    dict_dir = settings.project_dir / "data" / "dict"
    load_user_dicts(dict_dir)
    return open_index(
        content,
        encoder,
        settings.index,
        shop_index_dir(settings, shop),
        extra_fingerprint=dictionary_fingerprint(dict_dir),
        progress=progress,
        reuse=reuse,
    )


def shop_index_dir(settings: Settings, shop: str) -> Path:
    """Where a shop's index is saved: the default shop's in index_dir (as before shops), each other's in
    index_dir/.shops/<shop>/; a save prunes only its own folder's older builds."""
    return settings.index_dir if shop == DEFAULT_SHOP else settings.index_dir / ".shops" / shop


def fingerprint_for(settings: Settings, content: KBContent, encoder: Encoder) -> str:
    """The identity index_for gives this content (for saving a compacted index under the right name)."""
    return kb_fingerprint(content, encoder.fingerprint, dictionary_fingerprint(settings.project_dir / "data" / "dict") + _dense_spec(settings.index))
