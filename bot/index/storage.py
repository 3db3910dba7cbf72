"""Indexes on disk: named by what they hold (fingerprints), saved atomically, loaded, or built when missing."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

import numpy as np

from bot.encoder import Encoder
from bot.index.rows import Row
from bot.index.search import KBIndex
from bot.index.vectors import VectorSource
from bot.kb import Entry, KBContent
from bot.lexical import LexicalIndex
from bot.normalize import VERSION as NORMALIZE_VERSION
from bot.private import private_dir
from bot.segment import dictionary_fingerprint, load_user_dicts
from bot.settings import IndexSettings, Settings
from bot.shops import DEFAULT_SHOP

FORMAT_VERSION = 5  # 5: Row.entry renamed entry_index


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


def save_index(index: KBIndex, index_dir: Path) -> Path:
    """Write to a temporary directory, then rename it into place: never a half-written index."""
    import faiss

    if index.overlay_size:
        raise ValueError("compact the index before saving it")
    private_dir(index_dir)
    final = index_dir / index.fingerprint
    tmp = index_dir / f".{index.fingerprint}.{os.getpid()}.{time.time_ns()}.tmp"
    tmp.mkdir()
    faiss.write_index(index.dense, str(tmp / "dense.faiss"))
    index.lexical.save(tmp / "lexical")
    (tmp / "rows.json").write_text(
        json.dumps(
            {
                "fingerprint": index.fingerprint,
                "encoder": index.encoder.fingerprint,
                "shop": index.shop,
                "entries": [asdict(e) for e in index.entries],
                "rows": [asdict(r) for r in index.rows],
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
        if other.name != index.fingerprint and not other.name.startswith(".") and other.is_dir():
            shutil.rmtree(other, ignore_errors=True)
    return final


def load_index(directory: Path, encoder: Encoder, settings: IndexSettings) -> KBIndex:
    """The index saved in `directory`; ValueError when it was built with another encoder."""
    import faiss

    meta = json.loads((directory / "rows.json").read_text(encoding="utf-8"))
    entries = [Entry(**{**e, "tags": tuple(e["tags"]), "questions": tuple(e["questions"])}) for e in meta["entries"]]
    rows = [Row(**r) for r in meta["rows"]]
    dense = faiss.read_index(str(directory / "dense.faiss"))
    lexical = LexicalIndex.load(directory / "lexical")
    if meta.get("encoder") != encoder.fingerprint:
        raise ValueError(f"{directory} was built with another encoder")
    return KBIndex(entries, rows, dense, lexical, encoder, settings, meta["fingerprint"], meta["shop"])


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
        return load_index(directory, encoder, settings)
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
    save_index(index, index_dir)
    return index, True


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
