"""Baseline: BM25 alone over the KB's questions and answers (no embeddings, no Rasa), in the engine's suggest() shape."""

from __future__ import annotations

import numpy as np

from bot.context import ContextLike
from bot.index.rows import QUESTION, index_rows
from bot.kb import KBContent
from bot.lexical import LexicalIndex
from bot.nlu import IntentScore
from bot.suggestion import Reply, Suggestion, check_message


class LexicalEngine:
    """Each entry scores its best-matching question (answers count `answer_weight`); the intent is the top entry's."""

    def __init__(self, kb: KBContent, max_message_chars: int = 1000, answer_weight: float = 0.8) -> None:
        self._kb = kb
        self._entries = kb.approved()
        self._rows = index_rows(self._entries, kb.shop)
        self._row_entry = np.array([r.entry_index for r in self._rows], dtype=np.int64)
        self._row_weight = np.array([1.0 if r.kind == QUESTION else answer_weight for r in self._rows], dtype=np.float32)
        self._index = LexicalIndex.build([r.text for r in self._rows])
        self._max_chars = max_message_chars

    def suggest(self, message: str, context: ContextLike = None, k: int = 3) -> Suggestion:
        text = check_message(message, self._max_chars)
        scores = self._index.scores(text) * self._row_weight
        replies: list[Reply] = []
        seen: set[int] = set()
        for row in np.argsort(-scores, kind="stable"):
            if scores[row] <= 0 or len(replies) == k:
                break
            entry_no = int(self._row_entry[row])
            if entry_no in seen:
                continue
            seen.add(entry_no)
            entry = self._entries[entry_no]
            replies.append(Reply.of(entry, scores[row], self._rows[row].text, self._kb.shop))
        intent = IntentScore(replies[0].intent, replies[0].score) if replies else IntentScore("out_of_scope", 0.0)
        return Suggestion(intent, (intent,), tuple(replies), abstained=not replies, reason=None if replies else "no word in common")
