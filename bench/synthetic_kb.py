"""A realistic large KB, generated from the seed KB's own entries: the same questions and answers per product.

    .venv/bin/python bench/synthetic_kb.py 10000 /tmp/kb10k      # writes a kb/-style directory

A shop group with up to a million FAQ entries mostly holds the same kinds of questions asked about
different products ("这款保温杯包邮吗", "羽绒服是正品吗"). Each synthetic entry takes a seed entry,
a product, a variant and a series name (85 × 24 × 12 × 50 ≈ 1.2M combinations), and puts the product into a few of its questions and into its answer.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from bot.intents import load_intents  # noqa: E402
from bot.kb import Entry, KBContent  # noqa: E402
from bot.kb.files import read_kb, write_kb  # noqa: E402

PRODUCTS = (
    "保温杯", "羽绒服", "面膜", "蓝牙耳机", "电饭煲", "运动鞋", "双肩包", "连衣裙", "洗发水", "床上四件套", "空气炸锅", "口红",
    "婴儿湿巾", "猫粮", "登山杖", "机械键盘", "加湿器", "防晒霜", "牛仔裤", "电动牙刷", "茶叶礼盒", "瑜伽垫", "儿童积木", "行李箱",
)
VARIANTS = ("", "新款", "大号", "小号", "黑色", "白色", "礼盒装", "旗舰款", "加厚款", "家庭装", "迷你款", "升级款")
# Shops in a group sell the same products under their own series names: enough combinations for 1M entries.
SERIES = (
    "", "经典", "Pro", "Max", "Plus", "青春版", "2025款", "2026款", "轻奢", "国潮", "简约", "北欧风", "日式", "韩版", "商务",
    "户外", "学生", "儿童", "女士", "男士", "情侣", "限量", "联名", "定制", "环保", "智能", "便携", "大容量", "高端", "入门",
    "专业", "家用", "办公", "旅行", "运动", "复古", "时尚", "舒适", "耐用", "静音", "快充", "无线", "有机", "天然", "进口",
    "国产", "原装", "特价", "爆款", "新品",
)
FRAMES = ("这款{p}", "{p}", "你们家{p}", "那个{p}", "{p}这个")


def synthetic_kb(seed: KBContent, size: int, questions_per_entry: int = 3, seed_value: int = 7) -> KBContent:
    """`size` approved entries (plus the seed KB itself when size allows), unique questions, seed's shop profile."""
    rng = random.Random(seed_value)
    approved = list(seed.approved())
    entries = list(approved)[: min(size, len(approved))]
    n = 0
    seen = {q for e in entries for q in e.questions}
    capacity = len(approved) * (len(PRODUCTS) * len(VARIANTS) * len(SERIES) + 1)
    if size > capacity:
        raise ValueError(f"at most {capacity} entries can be generated from this seed KB")
    while len(entries) < size:
        base = approved[n % len(approved)]
        product = PRODUCTS[(n // len(approved)) % len(PRODUCTS)]
        variant = VARIANTS[(n // (len(approved) * len(PRODUCTS))) % len(VARIANTS)]
        series = SERIES[(n // (len(approved) * len(PRODUCTS) * len(VARIANTS))) % len(SERIES)]
        name = f"{series}{variant}{product}"
        questions = []
        for question in rng.sample(list(base.questions), min(questions_per_entry, len(base.questions))):
            text = rng.choice(FRAMES).format(p=name) + question
            if text not in seen:
                seen.add(text)
                questions.append(text)
        n += 1
        if not questions:
            continue
        answer = f"【{name}】{base.answer}"
        entries.append(Entry(f"{base.intent}.syn{n}", base.intent, "approved", base.tags, tuple(questions), answer))
    return KBContent(shop=seed.shop, entries=tuple(sorted(entries, key=lambda e: e.id)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("size", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--questions", type=int, default=3, help="questions per synthetic entry")
    args = parser.parse_args()
    seed = read_kb(PROJECT / "kb", load_intents(PROJECT))
    content = synthetic_kb(seed, args.size, args.questions)
    write_kb(content, args.out)
    print(f"wrote {len(content.entries)} entries to {args.out}")


if __name__ == "__main__":
    main()
