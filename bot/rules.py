"""The shop's service rules from the seeds, as checks on a reply text: they warn, they never block."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Collection, Iterable

from bot.segment import is_word_char

# "当玩家说'在吗'，不应该'在'": a bare acknowledgement is not a reply.
BARE_ACKS = frozenset({"在", "在的", "嗯", "嗯嗯", "哦", "噢", "恩", "额", "好", "是", "在呢"})
# "没有'我不能'": say what we can do instead.
NEGATIVES = ("不能", "不会", "不可以", "没办法", "不行", "做不了", "办不到")
OFFERS = ("可以", "帮您", "为您", "给您", "您可以", "建议", "我们能", "我这边", "马上", "替您", "试试", "推荐")
# "不能擅自承诺买家": commitments that only an approved answer may make.
PROMISES = (
    "保证", "一定", "肯定", "绝对", "包退", "退款给您", "给您退款", "全额退", "补偿", "赔偿", "赔您", "红包",
    "返现", "打折", "折扣", "便宜", "优惠", "送您", "赠送", "赠品", "免单", "明天到", "明天就到", "今天到", "后天到",
)
NEGATIVE_FREE_CONTEXT = re.compile(r"(会不会|能不能|可不可以|行不行)")


@dataclass(frozen=True)
class RuleWarning:
    rule: str
    message: str
    fragment: str = ""


def _content(text: str) -> str:
    return "".join(c for c in text if is_word_char(c))


def promises_made(answers: Iterable[str]) -> frozenset[str]:
    """The commitments (PROMISES) that some of these approved answers make: found once per KB, not per keystroke."""
    left, made = set(PROMISES), set()
    for answer in answers:
        found = {p for p in left if p in answer}
        made |= found
        left -= found
        if not left:
            break
    return frozenset(made)


def check_reply(text: str, promised: Collection[str] | None = None) -> list[RuleWarning]:
    """Warnings for a reply the agent is about to send (or an answer an editor is about to approve); `promised`:
    the commitments the approved answers make (`promises_made`), None to skip that rule."""
    warnings: list[RuleWarning] = []
    if _content(text) in BARE_ACKS:
        warnings.append(
            RuleWarning("bare_ack", f"'{text.strip()}' alone is not a reply: greet the buyer and ask how you can help")
        )
    plain = NEGATIVE_FREE_CONTEXT.sub("", text)
    negatives = [n for n in NEGATIVES if n in plain]
    without_negatives = re.sub("|".join(NEGATIVES), "", plain)
    if negatives and not any(o in without_negatives for o in OFFERS):
        warnings.append(
            RuleWarning("negative", f"'{negatives[0]}' without an offer: say what we can do instead", negatives[0])
        )
    if promised is not None:
        for promise in PROMISES:
            if promise in text and promise not in promised:
                warnings.append(
                    RuleWarning("promise", f"'{promise}' promises something no approved answer promises", promise)
                )
    return warnings
