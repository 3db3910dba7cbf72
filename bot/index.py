"""The retrieval index over approved KB entries: faiss (inner product on normalised vectors) fused with BM25."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from bot.encoder import Encoder
from bot.kb import Entry, KBContent
from bot.kb.template import fill
from bot.lexical import LexicalIndex
from bot.segment import load_user_dicts
from bot.settings import IndexSettings, Settings

FORMAT_VERSION = 1
QUESTION, ANSWER = "question", "answer"


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


def kb_fingerprint(content: KBContent, encoder_fingerprint: str, extra: str = "") -> str:
    """Changes whenever what the index holds would change: approved entries, shop facts, encoder, format."""
    payload = json.dumps(
        {
            "format": FORMAT_VERSION,
            "encoder": encoder_fingerprint,
            "shop": content.shop,
            "entries": [asdict(e) for e in content.approved()],
            "extra": extra,
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:20]


def _rows(entries: Sequence[Entry], shop: dict[str, str]) -> list[Row]:
    rows: list[Row] = []
    for i, entry in enumerate(entries):
        rows.extend(Row(i, QUESTION, q) for q in entry.questions)
        rows.append(Row(i, ANSWER, fill(entry.answer, shop).text))
    return rows


class KBIndex:
    """Search approved entries by meaning (faiss) and by words (BM25); one row per question and answer."""

    def __init__(
        self,
        entries: Sequence[Entry],
        rows: Sequence[Row],
        dense,  # type: ignore[no-untyped-def]
        lexical: LexicalIndex,
        encoder: Encoder,
        settings: IndexSettings,
        fingerprint: str,
    ) -> None:
        self.entries = tuple(entries)
        self.rows = tuple(rows)
        self._row_entry = np.array([r.entry for r in rows], dtype=np.int64)
        self._is_question = np.array([r.kind == QUESTION for r in rows], dtype=bool)
        self._dense = dense
        self._lexical = lexical
        self.encoder = encoder
        self.settings = settings
        self.fingerprint = fingerprint

    def __len__(self) -> int:
        return len(self.entries)

    @classmethod
    def build(cls, content: KBContent, encoder: Encoder, settings: IndexSettings, fingerprint: str, progress: bool = False) -> "KBIndex":
        import faiss

        entries = content.approved()
        rows = _rows(entries, content.shop)
        vectors = encoder.encode([r.text for r in rows], progress=progress)
        dense = faiss.IndexFlatIP(encoder.dimension)
        if len(vectors):
            dense.add(vectors)
        lexical = LexicalIndex.build([r.text for r in rows])
        return cls(entries, rows, dense, lexical, encoder, settings, fingerprint)

    def search(self, query: str, k: int = 10, query_vector: np.ndarray | None = None) -> list[Hit]:
        """The k best entries for a query, best first; scores fuse cosine and normalised BM25."""
        if not self.rows or k <= 0:
            return []
        if query_vector is None:
            query_vector = self.encoder.embed(query)
        n_rows = len(self.rows)
        depth = min(n_rows, max(64, 8 * k))
        _, dense_ids = self._dense.search(query_vector.reshape(1, -1), depth)
        lexical_all = self._lexical.scores(query)
        lexical_ids = np.argpartition(-lexical_all, depth - 1)[:depth] if depth < n_rows else np.arange(n_rows)
        candidates = np.unique(np.concatenate([dense_ids[0][dense_ids[0] >= 0], lexical_ids]))
        vectors = self._dense.reconstruct_batch(candidates.astype(np.int64))
        dense = np.clip(vectors @ query_vector, -1.0, 1.0)
        lexical = lexical_all[candidates]
        row_weight = np.where(self._is_question[candidates], 1.0, self.settings.answer_weight)
        fused = (self.settings.dense_weight * dense + self.settings.lexical_weight * lexical) * row_weight
        best: dict[int, int] = {}
        for position in np.argsort(-fused, kind="stable"):
            entry = int(self._row_entry[candidates[position]])
            if entry not in best:
                best[entry] = int(position)
                if len(best) == k:
                    break
        hits = []
        for entry, position in best.items():
            row = self.rows[int(candidates[position])]
            hits.append(
                Hit(
                    entry=self.entries[entry],
                    score=float(fused[position]),
                    dense=float(dense[position]),
                    lexical=float(lexical[position]),
                    matched=row.text,
                    matched_kind=row.kind,
                )
            )
        return hits

    # -- persistence -------------------------------------------------------------------------

    def save(self, index_dir: Path) -> Path:
        """Write to a temporary directory, then rename it into place: never a half-written index."""
        import faiss

        index_dir.mkdir(parents=True, exist_ok=True)
        final = index_dir / self.fingerprint
        tmp = index_dir / f".{self.fingerprint}.{time.time_ns()}.tmp"
        tmp.mkdir()
        faiss.write_index(self._dense, str(tmp / "dense.faiss"))
        self._lexical.save(tmp / "lexical")
        (tmp / "rows.json").write_text(
            json.dumps(
                {
                    "fingerprint": self.fingerprint,
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
        for other in index_dir.iterdir():
            if other.name != self.fingerprint and other.is_dir():
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
        return cls(entries, rows, dense, lexical, encoder, settings, meta["fingerprint"])


def open_index(
    content: KBContent,
    encoder: Encoder,
    settings: IndexSettings,
    index_dir: Path,
    extra_fingerprint: str = "",
    progress: bool = False,
) -> tuple[KBIndex, bool]:
    """The index for this KB and encoder: loaded when one is on disk, else built and saved. Returns (index, built)."""
    fingerprint = kb_fingerprint(content, encoder.fingerprint, extra_fingerprint)
    directory = index_dir / fingerprint
    if (directory / "rows.json").exists():
        try:
            return KBIndex.load(directory, encoder, settings), False
        except (OSError, ValueError, KeyError, RuntimeError):
            shutil.rmtree(directory, ignore_errors=True)  # unreadable: rebuild below
    index = KBIndex.build(content, encoder, settings, fingerprint, progress=progress)
    index.save(index_dir)
    return index, True


def dictionary_fingerprint(dict_dir: Path) -> str:
    """The jieba user dictionaries change the lexical tokens, so they are part of the index identity."""
    digest = hashlib.sha256()
    for path in sorted(Path(dict_dir).glob("*.txt")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def index_for(settings: Settings, content: KBContent, encoder: Encoder, progress: bool = False) -> tuple[KBIndex, bool]:
    """The project's index for this KB, under settings.index_dir."""
    dict_dir = settings.project_dir / "data" / "dict"
    load_user_dicts(dict_dir)
    return open_index(
        content,
        encoder,
        settings.index,
        settings.index_dir,
        extra_fingerprint=dictionary_fingerprint(dict_dir),
        progress=progress,
    )
