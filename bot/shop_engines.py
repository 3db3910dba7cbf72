"""Every shop's engine in one process: one Rasa model and one encoder for all, one index per shop (with the common
layer), built or loaded on a shop's first message and dropped, least recently used first, beyond the memory budget."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Sequence

import numpy as np

from bot import shops
from bot.index.search import KBIndex
from bot.suggest import Engine


class LoadedVectors:
    """Every loaded shop's index as one source of vectors: a shop loading for the first time embeds only the texts
    that no shop in memory has embedded already (shops share most questions, and answers filled alike)."""

    def __init__(self, indexes: Sequence[KBIndex], dimension: int) -> None:
        self.indexes = list(indexes)
        self.dimension = dimension

    def vectors_for(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        found = np.zeros(len(texts), dtype=bool)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for index in self.indexes:
            missing = np.flatnonzero(~found)
            if not len(missing):
                break
            has, known = index.vectors_for([texts[i] for i in missing])
            vectors[missing[has]] = known[has]
            found[missing[has]] = True
        return found, vectors


class ShopEngines:
    """`get(shop)` is the engine for that shop; `catch_up()` applies KB changes to every engine in memory."""

    def __init__(self, first: Engine) -> None:
        self.first = first  # the engine `bot serve` loaded at start (the default shop's); kept whatever the budget
        self.settings = first.settings
        self._engines: OrderedDict[str, Engine] = OrderedDict({first.shop: first})
        self._lock = threading.Lock()
        self._building: dict[str, threading.Lock] = {}  # one build per shop at a time; other shops go on meanwhile
        self._seen = -1  # the latest KB change (any shop) that sync has applied

    @property
    def budget_bytes(self) -> float:
        return self.settings.index.memory_budget_mb * 1024 * 1024

    def loaded(self) -> list[str]:
        """The shops whose engines are in memory, least recently used first."""
        with self._lock:
            return list(self._engines)

    def _cached(self, shop: str) -> Engine | None:
        with self._lock:
            engine = self._engines.get(shop)
            if engine is not None:
                self._engines.move_to_end(shop)
            return engine

    def get(self, shop: str) -> Engine:
        """The shop's engine, made on first use (ShopError for a shop that does not exist). Call it off the event
        loop: a first use reads the shop's KB and builds or loads its index."""
        engine = self._cached(shop)
        if engine is not None:
            return engine
        shops.must_exist(self.first.store.db, shop)  # a shop, or the common layer (its editors work on it alone)
        with self._lock:
            building = self._building.setdefault(shop, threading.Lock())
        with building:
            engine = self._cached(shop)
            if engine is None:
                with self._lock:
                    loaded = [e.index for e in reversed(self._engines.values()) if e.index is not None]
                vectors = LoadedVectors(loaded, self.first.encoder.dimension)
                engine = self.first.for_shop(shop, vectors)  # reads the KB and builds (or loads) the index
                with self._lock:
                    self._engines[shop] = engine
                    self._evict()
        return engine

    def _evict(self) -> None:
        """Drop the least recently used shops' engines while their indexes together exceed the budget (the first
        engine and the one just used stay). A dropped shop's next message loads its index again."""
        def held() -> int:
            return sum(e.index.memory_bytes for e in self._engines.values() if e.index is not None)

        while len(self._engines) > 2 and held() > self.budget_bytes:
            victim = next(s for s in self._engines if s != self.first.shop)
            del self._engines[victim]

    def catch_up(self) -> bool:
        """Apply KB changes (by this process or another) to every shop in memory; True if any changed. One query
        when nothing changed anywhere, however many shops are loaded."""
        latest = shops.last_change(self.first.store.db)
        if latest == self._seen:
            return False
        changed = False
        for engine in list(self._engines.values()):
            changed = engine.catch_up() or changed
        self._seen = latest
        return changed
