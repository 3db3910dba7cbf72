"""The one normalisation (bot.normalize) and the reading of a message into clauses (bot.clauses)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.clauses import ACK, AGREE, FINAL, GREET, THANKS, read_message
from bot.context import awaits_buyer
from bot.normalize import normalize


@pytest.mark.parametrize(
    "noisy, clean",
    [
        ("没了，多谢！！", "没了,多谢!"),
        ("好的，明白了～～～", "好的,明白了~"),
        ("亲 在么？？", "在吗?"),
        ("在伐 问个事", "在吗 问个事"),
        ("包油吗亲", "包邮吗亲"),
        ("有10元优惠卷吗", "有10元优惠券吗"),
        ("連核桃一起30元沒減呀", "连核桃一起30元没减呀"),
        ("OK👌🏻", "好的"),
        ("nihao", "你好"),
        ("zhengpin吗 啥时候fahuo", "正品吗 啥时候发货"),
        ("Pian Yi点 youhui有吗", "便宜点 优惠有吗"),
        ("是正品吗#E-s23", "是正品吗"),
        ("[微笑]好的", "好的"),
        ("[OK] 收到", "收到"),
        ("好的[嘻嘻]", "好的"),
        ("[okk]", ""),
        ("亲口罩还有吗", "口罩还有吗"),
        ("亲生日礼物能包装吗", "生日礼物能包装吗"),
        ("5元卷能用吗", "5元券能用吗"),
        ("领卷了", "领券了"),
        ("啊啊啊啊气死了！！！", "啊气死了!"),
        ("什么时候发货。。。", "什么时候发货."),
        ("ＡＢＣ１２３", "abc123"),
    ],
    ids=["fullwidth-runs", "tilde-run", "leading-qin-zaime", "zaifa", "baoyou-typo", "coupon-typo", "traditional",
         "ok-emoji", "pinyin", "pinyin-shop-words", "pinyin-capitalised", "taobao-emoticon", "bracket-emoticon", "bracket-ok", "bracket-xixi", "bracket-folds-to-emoticon",
         "qin-kouzhao", "qin-shengri", "coupon-after-amount", "coupon-taken",
         "particle-run", "ellipsis", "fullwidth-latin"],
)
def test_noise_folds_to_one_form(noisy: str, clean: str) -> None:
    assert normalize(noisy) == clean


@pytest.mark.parametrize(
    "text",
    ["亲们好", "亲爱的在吗", "88元包邮吗", "你现在不在", "什么时候到", "怎么用", "9.9元", "这么贵", "不能便宜点吗",
     "亲肤吗", "亲密付可以吗", "[赠品]呢", "两卷胶带多少钱", "一提几卷", "买了两卷纸 少了一卷", "用卷尺量的", "衣领卷边了"],
    ids=["qinmen", "qinai", "price-88", "xianzai-bu", "shenme", "zenme", "decimal", "zheme", "negation",
         "qinfu-skin-friendly", "qinmifu-pay", "bracketed-topic", "rolls-of-tape", "rolls-a-pack", "rolls-missing", "tape-measure",
         "collar-curls"],
)
def test_meaning_is_kept(text: str) -> None:
    assert normalize(text) == text


def test_full_width_brackets_keep_what_they_name() -> None:
    assert normalize("颜色选的【米白】能换吗") == "颜色选的[米白]能换吗"
    assert normalize("【赠品】怎么没收到") == "[赠品]怎么没收到"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("亲在么吗呢啊哈好的，。！？～~!? 包油卷0123ok在不伐👌[]#E-s14谢蟹什怎")), max_size=20) | st.text(max_size=40))
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    query = read_message(text).query
    assert normalize(query) == query, "what the encoder embeds is what BM25 tokenises"


@pytest.mark.parametrize(
    "text, content, social",
    [
        ("在么 快递收到了 少了一件", ("快递收到了", "少了一件"), {GREET}),
        ("没了，多谢！！", (), {FINAL, THANKS}),
        ("好的，明白了", (), {ACK, FINAL}),
        ("暂时不用了 给你好评", (), {FINAL, THANKS}),
        ("对的哈", (), {AGREE}),
        ("没了 谢谢 哦对了一般几天能到呀", ("一般几天能到呀",), {FINAL, THANKS}),
        ("谢谢 能便宜点吗", ("能便宜点吗",), {THANKS}),
        ("有加厚款吗", ("有加厚款吗",), set()),
        ("身高1.75体重60kg穿什么码", ("身高1.75体重60kg穿什么码",), set()),
        ("满59.9包邮吗", ("满59.9包邮吗",), set()),
        ("额外收费吗", ("额外收费吗",), set()),
        ("额度不够怎么办", ("额度不够怎么办",), set()),
        ("另外收费吗", ("另外收费吗",), set()),
        ("额什么时候发货", ("什么时候发货",), set()),
    ],
    ids=["greet-then-problem", "thanks-noisy", "ack-final", "praise-goodbye", "agree", "thanks-then-question", "thanks-first", "plain",
         "decimal-height", "decimal-price", "ewai-extra", "edu-quota", "lingwai-on-top", "e-filler"],
)
def test_messages_split_into_social_and_content_clauses(text: str, content: tuple[str, ...], social: set[str]) -> None:
    reading = read_message(text)
    assert reading.content == content
    assert reading.social == social


def test_a_reply_that_asks_the_buyer_for_something_awaits_them() -> None:
    assert awaits_buyer("亲,您别着急,麻烦把订单号发我,我马上帮您查一下包裹现在到哪里了~")
    assert awaits_buyer("我跟仓库确认后回复您")
    assert not awaits_buyer("亲,全场满99元包邮哦,还没满的话凑一凑就能免运费啦~")


def test_the_query_is_normalised_once_its_clauses_are_joined() -> None:
    assert read_message("在吗 亲包邮吗").query == "包邮吗"  # the greeting gone, 亲 leads the question: dropped as it would be
