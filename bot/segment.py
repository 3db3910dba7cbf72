"""jieba segmentation of normalised text (bot.normalize), shared by the message checks and the lexical index."""

from __future__ import annotations

import hashlib
import logging
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path

from bot.normalize import normalize

# Particles and interjections buyers sprinkle everywhere; as whole words they carry no topic.
STOP_WORDS = frozenset("亲吗呢吧啊呀哈嘛哦啦么了的呐哇噢嗯喔额诶哎咯捏滴哒嘞咩").union(
    {"请问", "一下", "那个", "这个", "就是", "么么哒"}
)

_lock = threading.Lock()
_loaded_dicts: set[Path] = set()


@lru_cache(maxsize=1)
def _jieba():  # type: ignore[no-untyped-def]
    """jieba, quiet; once per process (setLevel walks every logger Rasa made: a millisecond a call)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def load_user_dicts(dict_dir: Path) -> None:
    """Teach jieba the shop's words (data/dict/*.txt); each file is loaded once per process."""
    jieba = _jieba()
    with _lock:
        for path in sorted(Path(dict_dir).glob("*.txt")):
            resolved = path.resolve()
            if resolved not in _loaded_dicts:
                jieba.load_userdict(str(resolved))
                _loaded_dicts.add(resolved)


def dictionary_fingerprint(dict_dir: Path) -> str:
    """The shop's words (data/dict/*.txt, as `load_user_dicts` reads them) change how text is cut: part of the identity
    of what is built from tokens (the index, the Rasa model's tokenizer)."""
    digest = hashlib.sha256()
    for path in sorted(Path(dict_dir).glob("*.txt")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def is_word_char(char: str) -> bool:
    return unicodedata.category(char)[0] in ("L", "N")


def is_chinese(char: str) -> bool:
    """True for a CJK ideograph."""
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


def has_chinese(text: str) -> bool:
    """True if the text holds at least one CJK ideograph."""
    return any(is_chinese(c) for c in text)


def content_chars(text: str) -> int:
    """How many letters or digits (any script) a text holds; emoji and punctuation count zero."""
    return sum(1 for c in text if is_word_char(c))


def _is_decimal_point(word: str, i: int) -> bool:
    return word[i] == "." and 0 < i < len(word) - 1 and word[i - 1].isdigit() and word[i + 1].isdigit()


def words(text: str) -> list[str]:
    """jieba words of a normalised text, without punctuation, emoji or particles."""
    jieba = _jieba()
    out = []
    for word in jieba.lcut(normalize(text)):
        word = "".join(c for i, c in enumerate(word) if is_word_char(c) or _is_decimal_point(word, i))  # 59.9 is not 599
        if word and word not in STOP_WORDS:
            out.append(word)
    return out


@lru_cache(maxsize=4096)
def lexical_tokens(text: str) -> list[str]:
    """Words plus character bigrams of the content, so typos and odd segmentations still overlap (memoised: a
    query is tokenised by the candidate search and again by the scoring; callers do not modify the list)."""
    ws = words(text)
    chars = "".join(ws)
    bigrams = [chars[i : i + 2] for i in range(len(chars) - 1) if not chars[i : i + 2].isascii()]
    return ws + [f"#{b}" for b in bigrams]
