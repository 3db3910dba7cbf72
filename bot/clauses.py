"""What a buyer message holds: its clauses, which of them are social (greeting, thanks, acknowledgement), and its question.

Buyers wrap questions in pleasantries and send several things at once: "在么 快递收到了 少了一件",
"没了 谢谢 哦对了一般几天能到呀". The social clauses say nothing an entry answers (and pull retrieval
towards the welcome or closing scripts), so the engine reads the rest; a message that is only social is
answered by its kind: a greeting, a thank-you or goodbye, an acknowledgement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.normalize import normalize

GREET, THANKS, FINAL, ACK, AGREE = "greet", "thanks", "final", "ack", "agree"

# Social phrases by kind, matched against a clause with its particles removed. A clause is social only if
# it is made of these phrases entirely ("好的谢谢", "在吗 亲"), so "谢谢 能便宜点吗" keeps its question.
_PHRASES = {
    GREET: "在吗|在不在|在|有人吗|有人在吗|有没有人|人呢|客服|客服在吗|掌柜|老板|店家|卖家|美女|小姐姐|小哥哥|你好|您好|哈喽|嗨|hello|hi|hey"
           "|早上好|中午好|下午好|晚上好|早安|早|请问|问一下|问下|问个事|问个问题|想问一下|想问下|我想问一下|我想问下|咨询一下|咨询下"
           "|打扰一下|打扰了",
    THANKS: "谢谢|谢谢你|谢谢您|多谢|感谢|谢了|麻烦了|麻烦你了|麻烦您了|辛苦了|辛苦你了|辛苦您了|谢谢亲|么么哒"
            "|好评|给你好评|给你们好评|给好评|五星好评|会给好评|很满意|挺满意|东西不错|东西很好|下次还来|还会再来|会再来|再光顾",
    FINAL: "明白了|明白|知道了|知道|了解了|了解|晓得了|晓得|懂了|清楚了|没了|没有了|没事了|没问题了|没问题|就这些|就这样|"
           "再见|拜拜|下次再来|那就这样|那就行|就行|行了|可以了|好了|不用了|暂时不用了|暂时没有了|暂时没有|先这样",
    ACK: "好的|好|好哒|好滴|好嘞|收到|ok|哦哦|哦|噢|噢噢|喔|嗯好|行|那行",
    AGREE: "对|对的|是的|是|嗯|嗯嗯|恩|恩恩|可以|行吧|好吧|没错|是滴",
}
_PARTICLES = re.compile(r"[亲啊呀呢吧啦嘛哈哇~.!?,;:\"' ]+")
# Openers glued to the question ("啊对了大概多久能到", "请问这款有货吗"): dropped from the start of a clause.
# Not the start of a word: 额外 / 额度 / 额定, 另外收费 / 另外加钱 ("charged on top").
_LEADING_FILLER = re.compile(r"^(?:啊|哦|噢|嗯|额(?![外度定])|呃|对了|请问|问一下|问下|另外(?![收加付算])|然后)+(?=..)")
_KIND_OF = {phrase: kind for kind, alternation in _PHRASES.items() for phrase in alternation.split("|")}
_SOCIAL = re.compile("(?:" + "|".join(sorted(map(re.escape, _KIND_OF), key=len, reverse=True)) + ")")
_CLAUSE_BREAK = re.compile(r"(?:[,!?;~\s]|(?<!\d)\.|\.(?!\d))+")  # not the point of 1.75 or 59.9
_QUESTION = re.compile(r"[?吗呢么]$|多少|几|什么|啥|怎么|咋|哪|为什么|为啥|能不能|可不可以|可以.{0,6}吗|有没有|是不是|要不要|会不会")


def _social_kinds(clause: str) -> frozenset[str] | None:
    """The kinds of social phrase a clause is made of, or None if it says anything else."""
    core = _PARTICLES.sub("", clause)
    if not core:
        return frozenset()
    kinds = set()
    position = 0
    while position < len(core):
        match = _SOCIAL.match(core, position)
        if match is None:
            return None
        kinds.add(_KIND_OF[match.group()])
        position = match.end()
    return frozenset(kinds)


@dataclass(frozen=True)
class MessageReading:
    """A buyer message as the engine reads it: normalised, cut into clauses, social clauses set apart."""

    text: str  # the whole message, normalised
    content: tuple[str, ...]  # the clauses that ask or say something, in order
    social: frozenset[str]  # kinds of the social clauses (greet, thanks, final, ack, agree)

    @property
    def query(self) -> str:
        """What retrieval and the intent model read: the content clauses, or the whole message if it is only social.
        Normalised again once joined ("在吗 亲包邮吗" leaves "亲包邮吗", whose 亲 now leads), so the encoder's vector,
        BM25's tokens and the memo all read one text."""
        return normalize(" ".join(self.content)) if self.content else self.text

    @property
    def only_social(self) -> bool:
        return not self.content and bool(self.social)

    @property
    def questions(self) -> tuple[str, ...]:
        """The content clauses that look like questions (a question word or a final 吗/呢/?)."""
        return tuple(c for c in self.content if _QUESTION.search(c))


def read_message(text: str) -> MessageReading:
    """Cut a message into clauses at punctuation and spaces; a clause too short to stand alone joins the next."""
    normalised = normalize(text)
    pieces = [p for p in _CLAUSE_BREAK.split(normalised) if p]
    content: list[str] = []
    social: set[str] = set()
    for piece in pieces:
        kinds = _social_kinds(piece)
        if kinds is None:
            content.append(_LEADING_FILLER.sub("", piece))
        else:
            social |= kinds
    return MessageReading(normalised, tuple(content), frozenset(social))
