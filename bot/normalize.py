"""The one normalisation of buyer text, applied alike to KB rows at indexing, to the Rasa NLU input and to the query.

Real chats are noisy in ways that carry no meaning: full-width forms, traditional characters, emoji and
emoticon codes (#E-s14, [微笑]), runs of ！？～ or 啊啊啊, chat-speak in Latin letters (nihao, ok, thx)
and a few typos every agent reads past (包油, 优惠卷, 在么). Folding them here, once, means the intent
model, the encoder and BM25 all see the same text whatever the buyer's keyboard did. Meaning is kept:
question particles (吗, 呢), negations and digits stay; `normalize` is idempotent.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Bump when the folding changes: the retrieval index keys on it and re-embeds the KB.
VERSION = "2"

_CJK_PUNCTUATION = str.maketrans({"。": ".", "、": ",", "「": '"', "」": '"', "『": '"', "』": '"', "【": "[", "】": "]",
                                  "〔": "(", "〕": ")", "《": '"', "》": '"', "“": '"', "”": '"', "‘": "'", "’": "'",
                                  "…": ".", "—": "-", "–": "-", "·": " ", "〜": "~"})
# Emoticon codes of chat clients: Taobao's #E-s14, bracketed names ([微笑], [OK]), QQ's /:xxx.
_EMOTICON_CODE = re.compile(r"#e-?[a-z]?\d{1,3}|\[[\u4e00-\u9fffa-z]{1,4}\]|/:[a-z!@#$%^&*()<>?-]{1,6}", re.IGNORECASE)
# Chat-speak in Latin letters, as whole words (after lower-casing).
CHAT_WORDS = {
    "ok": "好的", "okay": "好的", "okk": "好的", "okok": "好的", "haode": "好的", "hao de": "好的",
    "nihao": "你好", "ni hao": "你好", "nin hao": "您好", "ninhao": "您好",
    "xiexie": "谢谢", "xie xie": "谢谢", "thx": "谢谢", "thanks": "谢谢", "thank you": "谢谢", "3q": "谢谢", "tks": "谢谢",
    "zaima": "在吗", "zai ma": "在吗", "zaime": "在吗", "zai me": "在吗",
    "baoyou": "包邮", "bao you": "包邮", "duoshaoqian": "多少钱", "duo shao qian": "多少钱",
    "bye": "再见", "byebye": "再见",
}
_CHAT_WORD = re.compile(
    r"(?<![a-z0-9])(" + "|".join(sorted(map(re.escape, CHAT_WORDS), key=len, reverse=True)) + r")(?![a-z0-9])"
)
# Typos every agent reads past: (pattern, replacement); each replacement is a fixed point of the table.
_TYPOS = [
    (re.compile(r"包油|包由"), "包邮"),
    (re.compile(r"优惠卷"), "优惠券"),
    (re.compile(r"(?<=[\d一二两三四五六七八九十几百千元块张个])卷"), "券"),
    (re.compile(r"蟹蟹|谢谢谢+|谢啦谢啦"), "谢谢"),
    (re.compile(r"木有"), "没有"),
    (re.compile(r"神马"), "什么"),
    (re.compile(r"肿么"), "怎么"),
    (re.compile(r"酱紫"), "这样子"),
    (re.compile(r"(?:^|(?<=[\s,.!?~]))在[伐不么嘛](?=$|[\s,.!?~])"), "在吗"),
    # 么 ending a question ("包邮么", "有货么"), not 什么 / 怎么 / 那么 / 这么 / 多么 / 要么 / 为么.
    (re.compile(r"(?<![什怎那这多要为干])么(?=$|[\s,.!?~])"), "吗"),
]
# Runs: punctuation (!!!, ???, ~~~, ...) to one mark, particles and laughter to one or two.
_PUNCT_RUN = re.compile(r"([!?~.,;:])[!?~.,;:]*")
_SPACED_PUNCT = re.compile(r"\s*([!?~.,;:])\s*")
_PARTICLE_RUN = re.compile(r"([啊呀哦噢喔嗯哈呢吧啦嘛额呃哇])\1{2,}")
_HAHA = re.compile(r"(哈哈|呵呵|嘿嘿|嘻嘻)(?:哈|呵|嘿|嘻)+")
_LEADING_QIN = re.compile(r"^(?:亲+(?![们爱自人戚手测身子友情属])[\s,.!~]*)+(?=\S)")


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


def _strip_emoji(text: str) -> str:
    import emoji

    text = emoji.replace_emoji(text, " ")
    # What emoji leaves: variation selectors, joiners, skin tones, and other pictographs (category So).
    return "".join(" " if unicodedata.category(c) in ("So", "Sk", "Cf") or "\ufe00" <= c <= "\ufe0f" else c for c in text)


def _fold(text: str) -> str:
    text = _CHAT_WORD.sub(lambda m: CHAT_WORDS[m.group(1)], text)
    for pattern, replacement in _TYPOS:
        text = pattern.sub(replacement, text)
    text = _HAHA.sub(r"\1", text)
    text = _PARTICLE_RUN.sub(r"\1", text)
    text = _SPACED_PUNCT.sub(r"\1", text)
    text = _PUNCT_RUN.sub(r"\1", text)
    text = _LEADING_QIN.sub("", text)
    return " ".join(text.split()).strip(" ,;:")


@lru_cache(maxsize=16384)
def normalize(text: str) -> str:
    """Buyer text as every part of the engine reads it (idempotent: normalize(normalize(t)) == normalize(t))."""
    text = unicodedata.normalize("NFKC", text).translate(_CJK_PUNCTUATION)
    text = _t2s().convert(text).lower()
    text = _EMOTICON_CODE.sub(" ", text)
    text = " ".join(_strip_emoji(text).split())
    for _ in range(4):  # one fold can make another apply ("亲 亲 包邮么!! ?"); stop at the fixed point
        folded = _fold(text)
        if folded == text:
            break
        text = folded
    return text
