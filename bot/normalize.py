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
VERSION = "5"

_CJK_PUNCTUATION = str.maketrans({"。": ".", "、": ",", "「": '"', "」": '"', "『": '"', "』": '"', "【": "[", "】": "]",
                                  "〔": "(", "〕": ")", "《": '"', "》": '"', "“": '"', "”": '"', "‘": "'", "’": "'",
                                  "…": ".", "—": "-", "–": "-", "·": " ", "〜": "~"})
# The names chat clients (WeChat, QQ, Qianniu/Wangwang) put in brackets for an emoticon: "[微笑]", "[OK]". Only these
# are dropped: "[赠品]呢" and "【米白】" name what the buyer asks about.
EMOTICON_NAMES = frozenset(
    "嘻嘻 哈哈 呵呵 嘿嘿 抱抱 doge emm 斜眼笑 比心 点赞 微笑 撇嘴 色 发呆 得意 流泪 害羞 闭嘴 睡 大哭 尴尬 发怒 调皮 呲牙 惊讶 难过 酷 冷汗 抓狂 吐 偷笑 可爱 愉快 白眼 傲慢 饥饿 困 惊恐 流汗 憨笑 大兵 悠闲 奋斗 咒骂 疑问 嘘 晕 折磨 衰 骷髅 敲打 再见 擦汗 抠鼻 鼓掌 糗大了 坏笑 左哼哼 右哼哼 哈欠 鄙视 委屈 快哭了 阴险 亲亲 吓 可怜 笑哭 捂脸 奸笑 机智 皱眉 耶 吃瓜 加油 汗 天啊 社会社会 旺柴 好的 打脸 哇 翻白眼 666 让我看看 叹气 苦涩 裂开 嘿哈 破涕为笑 失望 无语 菜刀 西瓜 啤酒 咖啡 猪头 玫瑰 凋谢 爱心 心碎 蛋糕 炸弹 便便 月亮 太阳 礼物 拥抱 强 弱 握手 胜利 抱拳 勾引 拳头 ok 红包 发 福 烟花 爆竹 庆祝 合十 呲牙笑 大笑 哭 生气 害怕 开心 飞吻 爱你 赞 跳跳 发抖 怄火 转圈 亲吻 右太极 左太极".split()
)
# Emoticon codes of chat clients: Taobao's #E-s14, bracketed emoticon names, QQ's /:xxx.
_EMOTICON_CODE = re.compile(r"#e-?[a-z]?\d{1,3}|/:[a-z!@#$%^&*()<>?-]{1,6}", re.IGNORECASE)
_BRACKETED = re.compile(r"\[([^\[\]]{1,6})\]")
# Chat-speak in Latin letters, as whole words (after lower-casing).
CHAT_WORDS = {
    "ok": "好的", "okay": "好的", "okk": "好的", "okok": "好的", "haode": "好的", "hao de": "好的",
    "nihao": "你好", "ni hao": "你好", "nin hao": "您好", "ninhao": "您好",
    "xiexie": "谢谢", "xie xie": "谢谢", "thx": "谢谢", "thanks": "谢谢", "thank you": "谢谢", "3q": "谢谢", "tks": "谢谢",
    "zaima": "在吗", "zai ma": "在吗", "zaime": "在吗", "zai me": "在吗",
    "baoyou": "包邮", "bao you": "包邮", "duoshaoqian": "多少钱", "duo shao qian": "多少钱",
    # the shop words buyers type in pinyin when the IME is off ("zhengpin吗", "啥时候fahuo")
    "zhengpin": "正品", "zheng pin": "正品", "fahuo": "发货", "fa huo": "发货", "kuaidi": "快递", "kuai di": "快递",
    "youfei": "邮费", "you fei": "邮费", "yunfei": "运费", "yun fei": "运费", "pianyi": "便宜", "pian yi": "便宜",
    "youhui": "优惠", "you hui": "优惠", "tuihuo": "退货", "tui huo": "退货", "tuikuan": "退款", "tui kuan": "退款",
    "huanhuo": "换货", "huan huo": "换货",
    "bye": "再见", "byebye": "再见",
}
_CHAT_WORD = re.compile(
    r"(?<![a-z0-9])(" + "|".join(sorted(map(re.escape, CHAT_WORDS), key=len, reverse=True)) + r")(?![a-z0-9])"
)
# Typos every agent reads past: (pattern, replacement); each replacement is a fixed point of the table.
_TYPOS = [
    (re.compile(r"包油|包由"), "包邮"),
    (re.compile(r"优惠卷"), "优惠券"),
    # 卷 for 券 after an amount, a count of coupons or 领/用/抵: "5元卷", "两张卷", "领卷" (not "两卷胶带", "几卷纸",
    # 卷尺, 卷发棒, "衣领卷边了").
    (re.compile(r"(?<=[\d元块张领用抵])卷(?![尺发边纸帘筒轴心])"), "券"),
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
# 亲 as a form of address, not the start of a word: 亲们, 亲爱, 亲自, 亲肤, 亲密付, 亲测, 亲手, 亲眼, 亲笔 ...
_LEADING_QIN = re.compile(
    r"^(?:亲+(?![们爱自人戚手测身子友情属肤和切朋]|密(?!码)|笔(?!记)|近(?!期)|眼(?![霜镜])|口(?!罩)|热(?!水)|生(?!日))[\s,.!~]*)+(?=\S)"
)  # but 亲 before 口罩, 眼霜, 生日, 近期 ... is the address: "亲口罩还有吗"


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
    # In the loop: folding may make an emoticon name ("[okk]" -> "[好的]", "[哇哇哇]" -> "[哇]").
    text = _BRACKETED.sub(lambda m: " " if m.group(1) in EMOTICON_NAMES else m.group(0), text)
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
