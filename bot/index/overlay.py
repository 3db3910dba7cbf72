"""Approved edits made live without a rebuild: the changed entries' new versions, searched exhaustively beside the build."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from bot.encoder import Encoder
from bot.index.rows import Row, index_rows
from bot.index.vectors import VectorSource, embed_reusing
from bot.kb import Entry
from bot.lexical import LexicalIndex, tokenize


@dataclass(frozen=True)
class Overlay:
    """Entries approved since the build: searched exhaustively (they are few), scored like the built rows."""

    entries: tuple[Entry, ...]
    rows: tuple[Row, ...]
    vectors: np.ndarray
    tokens: tuple[list[str], ...]

    @functools.cached_property
    def characters(self) -> frozenset[str]:
        """Every character of the overlay's tokens (found once per overlay, not per message)."""
        return frozenset(c for tokens in self.tokens for token in tokens for c in token)

    @functools.cached_property
    def lexical(self) -> LexicalIndex:
        """BM25 over the overlay's rows alone: their statistics, for a KB whose build was empty (made once per overlay)."""
        return LexicalIndex.of_tokens(self.tokens)

    @classmethod
    def empty(cls, dimension: int) -> "Overlay":
        return cls((), (), np.zeros((0, dimension), dtype=np.float32), ())

    def replace(self, changed: set[str], live: Sequence[Entry], shop: dict[str, str], encoder: Encoder, reuse: VectorSource) -> "Overlay":
        """This overlay with the `changed` entries dropped and their `live` versions added; only new texts are encoded."""
        kept = [e for e in self.entries if e.id not in changed] + list(live)
        rows = index_rows(kept, shop)
        old = {(self.entries[r.entry_index].id, r.kind, r.text): i for i, r in enumerate(self.rows)}
        keys = [(kept[r.entry_index].id, r.kind, r.text) for r in rows]
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
            vectors[todo] = embed_reusing(encoder, [rows[i].text for i in todo], reuse)
            for i in todo:
                tokens[i] = tokenize(rows[i].text)
        return Overlay(tuple(kept), tuple(rows), vectors, tuple(t or [] for t in tokens))
