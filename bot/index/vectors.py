"""Vectors for index rows: reused from an index that already has them, the rest encoded, added to faiss in chunks."""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np

from bot.encoder import Encoder
from bot.settings import IndexSettings

BUILD_CHUNK = 8192  # rows embedded and added to faiss at a time


class VectorSource(Protocol):
    """Anything that already has vectors for some texts: a live index, a saved one, a benchmark's cache."""

    def vectors_for(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]: ...


def embed_reusing(encoder: Encoder, texts: Sequence[str], reuse: VectorSource | None) -> np.ndarray:
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


def new_dense(settings: IndexSettings, dimension: int, n_rows: int):  # type: ignore[no-untyped-def]
    """An empty faiss index of the kind `dense_kind` picks for this many rows."""
    import faiss

    if dense_kind(settings, n_rows) == "flat":
        return faiss.IndexFlatIP(dimension)
    dense = faiss.IndexHNSWFlat(dimension, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    dense.hnsw.efConstruction = settings.hnsw_ef_construction
    dense.hnsw.efSearch = settings.ef_search(n_rows)
    return dense


def fill_dense(dense, encoder: Encoder, texts: Sequence[str], reuse: VectorSource | None, progress: bool) -> None:  # type: ignore[no-untyped-def]
    """Embed and add the rows chunk by chunk: memory stays at the index plus one chunk, with one progress bar."""
    from tqdm import tqdm

    with tqdm(total=len(texts), desc="indexing", unit="row", disable=not progress, smoothing=0.05) as bar:
        for start in range(0, len(texts), BUILD_CHUNK):
            chunk = texts[start:start + BUILD_CHUNK]
            dense.add(embed_reusing(encoder, chunk, reuse))
            bar.update(len(chunk))
