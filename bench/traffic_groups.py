"""How well the traffic page groups buyer messages that one reply answers, and proposes the entry that answers them.

    .venv/bin/python bench/traffic_groups.py                     # m3e-small as shipped, and the fine-tuned encoder
    .venv/bin/python bench/traffic_groups.py --encoder DIR ...   # other sentence-transformers directories
    .venv/bin/python bench/traffic_groups.py --real-dev           # real buyers' answerable messages instead

The messages are the team's labelled buyer messages (tests/data/paraphrases_dev.yml, paraphrases_test.yml and
chat_log.jsonl), each labelled with the reply an agent sends (its first acceptable entry). They are grouped the way
the traffic page groups missed messages (bot/traffic.py: average linkage on the encoder's vectors), at the old fixed
distance (traffic.CLUSTER_DISTANCE) and at the distance the page now takes from the KB (KBIndex.phrasing_distance:
how far apart the encoder puts one entry's questions). For each: the groups, the pairs of messages grouped together
that share their reply (pair precision), the pairs that share a reply and were grouped (pair recall), and the adjusted
Rand index. Then what each group is proposed at the distance the page uses: "add as variants" of the entry the group
matches best (traffic.closest_entry) when it scores at least the fixed traffic.VARIANT_MIN_SCORE, or the score the page
now takes from the KB (traffic.variant_min_score); for each, the groups and messages proposed as variants, and the
share of those messages of which that entry is an acceptable reply (precision). The fine-tuned encoder is the one
`bot train` left in the models directory (BOT_MODELS_DIR). Each encoder embeds the seed KB once (about a minute here).
With --real-dev, the messages are ../shared/data/real_dev's answerable buyer messages (messages.jsonl, both parts,
original labels) instead: a check on real language, not a set to tune on. Writes bench/results/traffic_groups.json
(traffic_groups_real_dev.json with --real-dev).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
DATA = PROJECT / "tests" / "data"
PARAPHRASES = ("paraphrases_dev.yml", "paraphrases_test.yml")
RESULTS = PROJECT / "bench" / "results" / "traffic_groups.json"


def labelled_messages() -> tuple[list[str], list[tuple[str, ...]]]:
    """(texts, the acceptable replies of each, first the one it is answered with) of the team's labelled buyer messages."""
    from ruamel.yaml import YAML

    from bot.evaluate import labelled
    from bot.logs import read_log

    items = [i for name in PARAPHRASES for i in labelled(YAML(typ="safe", pure=True).load((DATA / name).read_text(encoding="utf-8")))]
    items += read_log(DATA / "chat_log.jsonl").items
    answered = [i for i in items if i.reply_ids]
    return [i.text for i in answered], [tuple(i.reply_ids) for i in answered]


def real_dev_messages() -> tuple[list[str], list[tuple[str, ...]]]:
    """(texts, acceptable replies) of the answerable messages of real_dev's messages.jsonl, both parts."""
    sys.path.insert(0, str(PROJECT / "bench"))
    import real_dev

    answerable = [line for line in real_dev.load()["messages.jsonl"] if line.answerable]
    return [line.text for line in answerable], [line.acceptable for line in answerable]


def scores(groups: list[list[int]], replies: list[str]) -> dict[str, float]:
    """Pair precision and recall of the grouping against the replies, and the adjusted Rand index."""
    from sklearn.metrics import adjusted_rand_score
    from sklearn.metrics.cluster import pair_confusion_matrix

    grouped = np.zeros(len(replies), dtype=np.int64)
    for number, members in enumerate(groups):
        grouped[members] = number
    pairs = pair_confusion_matrix(replies, grouped)  # [[apart, grouped though replies differ], [split, grouped]]
    return {
        "groups": len(groups),
        "pair_precision": round(int(pairs[1, 1]) / max(int(pairs[:, 1].sum()), 1), 3),
        "pair_recall": round(int(pairs[1, 1]) / max(int(pairs[1, :].sum()), 1), 3),
        "adjusted_rand": round(float(adjusted_rand_score(replies, grouped)), 3),
    }


def proposals(index, texts: list[str], acceptable: list[tuple[str, ...]], groups: list[list[int]]) -> list[dict]:  # type: ignore[no-untyped-def]
    """The groups proposed as variants at the fixed score and at the KB's own, and how often the entry is acceptable."""
    from bot import traffic

    closest = []  # (mean score, messages, of which the entry is acceptable)
    for members in groups:
        found = traffic.closest_entry(index, list(dict.fromkeys(texts[i] for i in members))[: traffic.MAX_QUESTIONS])
        if found is not None:
            closest.append((found.score, len(members), sum(found.entry_id in acceptable[i] for i in members)))
    rows = []
    for how, score in (("fixed", traffic.VARIANT_MIN_SCORE), ("the KB's", traffic.variant_min_score(index))):
        chosen = [c for c in closest if c[0] >= score]
        messages = sum(c[1] for c in chosen)
        rows.append({
            "score": how, "value": round(score, 3), "variant_groups": len(chosen), "messages": messages,
            "precision": round(sum(c[2] for c in chosen) / max(messages, 1), 3),
        })
    return rows


def measure(settings, name: str, path: Path, texts: list[str], acceptable: list[tuple[str, ...]]) -> tuple[list[dict], list[dict]]:  # type: ignore[no-untyped-def]
    """One encoder's rows: the messages grouped at the fixed distance and at the seed KB's own, each scored; and what
    the groups at the KB's distance are proposed."""
    from bot import traffic
    from bot.encoder import Encoder
    from bot.index.search import KBIndex
    from bot.intents import load_intents
    from bot.kb.files import read_kb

    encoder = Encoder(path, settings.encoder_backend, settings.models_dir / "onnx")
    index = KBIndex.build(read_kb(PROJECT / "kb", load_intents(PROJECT)), encoder, settings.index, "traffic-groups")
    vectors = traffic.message_vectors(encoder, texts)
    replies = [a[0] for a in acceptable]
    rows, groups = [], []
    for how, distance in (("fixed", traffic.CLUSTER_DISTANCE), ("the KB's phrasings", traffic.group_distance(index))):
        groups = traffic.groups_within(vectors, distance)
        rows.append({"encoder": name, "distance": how, "value": round(distance, 3), **scores(groups, replies)})
    proposed = proposals(index, texts, acceptable, groups)  # the groups at the KB's distance, as the page groups them
    return rows, [{"encoder": name, **row} for row in proposed]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", type=Path, action="append", help="a sentence-transformers directory (repeatable)")
    parser.add_argument("--real-dev", action="store_true", help="real_dev's answerable buyer messages instead of the team's")
    args = parser.parse_args()
    from bot.encoder import finetuned_encoder, resolve_encoder
    from bot.settings import load_settings

    settings = load_settings(PROJECT)
    encoders = {str(p): p for p in args.encoder or []}
    if not encoders:
        shipped = resolve_encoder(settings.encoder)
        encoders["m3e-small as shipped"] = shipped
        tuned = finetuned_encoder(settings.models_dir, shipped)
        if tuned is None:
            print(f"no fine-tuned encoder under {settings.models_dir} (run `bot train`): measuring m3e-small alone")
        else:
            encoders[f"fine-tuned ({tuned.name})"] = tuned
    texts, acceptable = real_dev_messages() if args.real_dev else labelled_messages()
    print(f"{len(texts)} labelled {'real_dev ' if args.real_dev else ''}messages, {len({a[0] for a in acceptable})} replies\n")
    measured = [measure(settings, name, path, texts, acceptable) for name, path in encoders.items()]
    rows = [row for grouped, _ in measured for row in grouped]
    proposed = [row for _, rows_proposed in measured for row in rows_proposed]
    print("| encoder | distance | value | groups | pair precision | pair recall | adjusted Rand |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['encoder']} | {r['distance']} | {r['value']:.3f} | {r['groups']} | {r['pair_precision']:.3f} | {r['pair_recall']:.3f} | {r['adjusted_rand']:.3f} |")
    print("\n| encoder | variant score | value | groups proposed as variants | their messages | entry acceptable |")
    print("|---|---|---|---|---|---|")
    for r in proposed:
        print(f"| {r['encoder']} | {r['score']} | {r['value']:.3f} | {r['variant_groups']} | {r['messages']} | {r['precision']:.3f} |")
    results = RESULTS.with_name("traffic_groups_real_dev.json") if args.real_dev else RESULTS
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps({"messages": len(texts), "rows": rows, "proposals": proposed}, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nwrote {results.relative_to(PROJECT)}")


if __name__ == "__main__":
    main()
