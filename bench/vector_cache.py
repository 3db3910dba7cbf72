"""Embed a synthetic KB's index rows ahead of its build, resumably, so a 1M-entry build can span sessions.

    .venv/bin/python bench/vector_cache.py 1000000 --backend onnx-int8    # hours on 2 CPU cores

Vectors go to bench/out/vectors/<size>-<encoder fingerprint>.f32 (a memmap, one row per unique text)
with a `.done` counter written after every chunk: a killed run resumes where it stopped. bench/scale.py
passes the cache to the index build as `reuse`, so the build only encodes what is not in it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "bench"))
CACHE_DIR = PROJECT / "bench" / "out" / "vectors"
CHUNK = 4096


class VectorCache:
    """Vectors of a fixed list of texts, filled chunk by chunk; `vectors_for` is what index builds ask for."""

    def __init__(self, texts: list[str], path: Path, dimension: int) -> None:
        self.texts = texts
        self.path = path
        self.dimension = dimension
        self._row = {t: i for i, t in enumerate(texts)}
        mode = "r+" if path.exists() else "w+"
        self._vectors = np.memmap(path, dtype=np.float32, mode=mode, shape=(len(texts), dimension))
        self._done_file = path.with_suffix(".done")

    @property
    def done(self) -> int:
        return int(self._done_file.read_text()) if self._done_file.exists() else 0

    def fill(self, encoder, progress: bool = True) -> None:  # type: ignore[no-untyped-def]
        from tqdm import tqdm

        start = self.done
        with tqdm(total=len(self.texts), initial=start, desc="embedding", unit="row", disable=not progress, smoothing=0.05) as bar:
            while start < len(self.texts):
                end = min(start + CHUNK, len(self.texts))
                self._vectors[start:end] = encoder.encode(self.texts[start:end])
                self._vectors.flush()
                self._done_file.write_text(str(end))
                bar.update(end - start)
                start = end

    def vectors_for(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(found mask, vectors): the texts embedded so far."""
        done = self.done
        found = np.zeros(len(texts), dtype=bool)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        rows = [(i, self._row.get(t, done)) for i, t in enumerate(texts)]
        hits = [(i, r) for i, r in rows if r < done]
        if hits:
            vectors[[i for i, _ in hits]] = self._vectors[[r for _, r in hits]]
            found[[i for i, _ in hits]] = True
        return found, vectors


def cache_for(size: int, backend: str) -> tuple[VectorCache, object]:
    """The cache of the synthetic KB of this size under this encoder backend, and the encoder."""
    from bot.encoder import load_encoder
    from bot.index.rows import index_rows
    from bot.intents import load_intents
    from bot.kb.files import read_kb
    from bot.settings import load_settings

    from synthetic_kb import synthetic_kb

    settings = load_settings(PROJECT)
    encoder = load_encoder(settings.encoder, backend, settings.encoders_dir)
    content = synthetic_kb(read_kb(PROJECT / "kb", load_intents(PROJECT)), size)
    texts = list(dict.fromkeys(r.text for r in index_rows(content.approved(), content.shop)))
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    return VectorCache(texts, CACHE_DIR / f"{size}-{encoder.fingerprint}.f32", encoder.dimension), encoder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("size", type=int)
    parser.add_argument("--backend", default="onnx-int8")
    args = parser.parse_args()
    cache, encoder = cache_for(args.size, args.backend)
    print(f"{len(cache.texts)} unique texts, {cache.done} embedded already: {cache.path}", flush=True)
    cache.fill(encoder)


if __name__ == "__main__":
    main()
