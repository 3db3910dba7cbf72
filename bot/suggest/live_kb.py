"""The engine's live knowledge base: loaded once, kept in step with approved edits, its index compacted off the request path."""

from __future__ import annotations

import threading
from collections import OrderedDict

from bot.context import awaits_buyer
from bot.encoder import Encoder
from bot.index.search import KBIndex
from bot.index.storage import fingerprint_for, index_for, save_index, shop_index_dir
from bot.index.vectors import VectorSource
from bot.kb import Entry, KBContent
from bot.kb.store import KBStore
from bot.ranking import CLARIFY_TAG, HOLDING_TAG
from bot.rules import promises_made
from bot.settings import Settings

COMPACT_AFTER = 200  # overlay entries before the index is rebuilt in the background
OWN_INTENT_CACHE = 4096  # earlier messages whose own intent is remembered (a conversation re-reads them)


class Readings:
    """A bounded memo of what messages were read to ask (text -> intent), shared by the threads that suggest.

    `forget` empties it when the KB or the model changes and starts a new generation: a reading made by a suggestion
    that began before (on the old KB) is not stored after it.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.generation = 0
        self._memo: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> str | None:
        with self._lock:
            return self._memo.get(text)

    def put(self, text: str, intent: str, generation: int) -> None:
        with self._lock:
            if generation != self.generation:
                return
            self._memo[text] = intent
            self._memo.move_to_end(text)
            if len(self._memo) > self.size:
                self._memo.popitem(last=False)

    def forget(self) -> None:
        with self._lock:
            self._memo.clear()
            self.generation += 1

    def __len__(self) -> int:
        return len(self._memo)


class LiveKB:
    """One shop's approved KB and its index, what is found once per KB rather than per message, and the
    remembered readings of earlier messages (dropped whenever the KB changes).

    `catch_up` makes approved KB changes live without a restart: changed entries go into the index's overlay
    and a new index object is swapped in (searches in flight finish on the old one); when the overlay
    grows, a background thread compacts it into a fresh build and swaps that in the same way.
    """

    def __init__(self, settings: Settings, store: KBStore, encoder: Encoder) -> None:
        self.settings = settings
        self.store = store
        self.encoder = encoder
        self._own_intents = Readings(OWN_INTENT_CACHE)  # what earlier messages asked, read against this KB
        self.kb: KBContent = KBContent()  # the live KB: shop profile and approved entries (set by _set_kb)
        self.promised: frozenset[str] | None = None  # the commitments approved answers make (set by _set_kb)
        self._clarify: tuple[Entry, ...] = ()  # the clarifying script offered when abstaining, found once per KB
        self._holding: dict[str, Entry] = {}  # each intent's holding reply (tag "holding"), found once per KB
        self._awaiting_intents: frozenset[str] = frozenset()  # intents whose answers mostly wait on the buyer
        self.index: KBIndex | None = None
        self.seq = 0  # the last KB change applied
        self._kb_lock = threading.RLock()
        self._compacting: threading.Thread | None = None

    @property
    def shop(self) -> str:
        return self.store.shop_name

    @property
    def live_size(self) -> int:
        """How many entries agents are suggested from (0 before the index is built)."""
        return len(self.index or ())

    def forget_readings(self) -> None:
        """Drop what earlier messages were read to ask (the KB or the model they were read with changed)."""
        self._own_intents.forget()

    def refresh(self, progress: bool = False, vectors: VectorSource | None = None) -> bool:
        """Reload the KB from the database; rebuild the index only if the KB or encoder changed (embedding only the
        texts that neither this engine's index nor `vectors`, another shop's, has embedded already)."""
        with self._kb_lock:
            seq = self.store.last_change()  # read first: a change made during the load is applied again later
            kb = self.store.approved()
            self.index, built = index_for(self.settings, kb, self.encoder, progress=progress, reuse=self.index or vectors, shop=self.shop)
            self._set_kb(kb)
            self.seq = seq
            self.forget_readings()
        return built

    def catch_up(self) -> bool:
        """Catch up with the database: apply the KB changes made since the last call (by this process or another); True if anything changed."""
        with self._kb_lock:
            seq, changed = self.store.changes_since(self.seq)
            if seq == self.seq:
                return False
            if changed is None or self.index is None or self.kb.shop != self.store.shop():
                self.refresh()
                return True
            self._apply(changed)
            self.seq = seq
        if self.index.overlay_size > COMPACT_AFTER:
            self.compact_in_background()
        return True

    def _apply(self, changed: set[str]) -> None:
        assert self.index is not None
        self.index = self.index.apply(list(self.store.live(changed).values()), changed)
        self._set_kb(KBContent(shop=self.kb.shop, entries=self.index.live_entries()))
        self.forget_readings()

    def _set_kb(self, kb: KBContent) -> None:
        """Make this the live KB; what depends on the whole KB is found here, not per message (1M entries)."""
        self.kb = kb
        approved = kb.approved()
        self._clarify = tuple(e for e in approved if CLARIFY_TAG in e.tags)[:1]
        self._holding = {e.intent: e for e in reversed(approved) if HOLDING_TAG in e.tags}
        by_intent: dict[str, list[bool]] = {}
        for entry in approved:
            by_intent.setdefault(entry.intent, []).append(awaits_buyer(entry.answer))
        self._awaiting_intents = frozenset(i for i, waits in by_intent.items() if sum(waits) > len(waits) / 2)
        self.promised = promises_made(e.answer for e in approved) if approved else None  # what the reply check allows agents to promise

    def compact_in_background(self) -> threading.Thread:
        """Fold the index's overlay into a fresh build off the request path, then swap it in and save it."""
        with self._kb_lock:
            if self._compacting is not None and self._compacting.is_alive():
                return self._compacting
            self._compacting = threading.Thread(target=self._compact, name="index-compaction", daemon=True)
            self._compacting.start()
            return self._compacting

    def _compact(self) -> None:
        with self._kb_lock:
            index, kb, seq = self.index, self.kb, self.seq
        assert index is not None
        fresh = index.compact(kb, fingerprint_for(self.settings, kb, self.encoder))
        save_index(fresh, shop_index_dir(self.settings, self.shop))
        with self._kb_lock:
            latest, changed = self.store.changes_since(seq)
            if changed is None:
                return  # a whole-KB change arrived meanwhile: the next catch_up reloads
            self.index = fresh.apply(list(self.store.live(changed).values()), changed) if changed else fresh
            self._set_kb(KBContent(shop=kb.shop, entries=self.index.live_entries()))
            self.seq = latest
