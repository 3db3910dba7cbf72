"""How well the traffic page groups buyer messages that one reply answers, at a fixed distance and at the KB's own.

    .venv/bin/python bench/traffic_groups.py                     # m3e-small as shipped, and the fine-tuned encoder
    .venv/bin/python bench/traffic_groups.py --encoder DIR ...   # other sentence-transformers directories

The messages are the team's labelled buyer messages (tests/data/paraphrases_dev.yml, paraphrases_test.yml and
chat_log.jsonl), each labelled with the reply an agent sends (its first acceptable entry). They are grouped the way
the traffic page groups missed messages (bot/traffic.py: average linkage on the encoder's vectors), at the old fixed
distance (traffic.CLUSTER_DISTANCE) and at the distance the page now takes from the KB (KBIndex.phrasing_distance:
how far apart the encoder puts one entry's questions). For each: the groups, the pairs of messages grouped together
that share their reply (pair precision), the pairs that share a reply and were grouped (pair recall), and the adjusted
Rand index. The fine-tuned encoder is the one `bot train` left in the models directory (BOT_MODELS_DIR). Each encoder
embeds the seed KB once (about a minute here). Writes bench/results/traffic_groups.json.
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


def labelled_messages() -> tuple[list[str], list[str]]:
    """(texts, the reply each is answered with) of the team's labelled buyer messages."""
    from ruamel.yaml import YAML

    from bot.evaluate import labelled
    from bot.logs import read_log

    items = [i for name in PARAPHRASES for i in labelled(YAML(typ="safe", pure=True).load((DATA / name).read_text(encoding="utf-8")))]
    items += read_log(DATA / "chat_log.jsonl").items
    answered = [i for i in items if i.reply_ids]
    return [i.text for i in answered], [i.reply_ids[0] for i in answered]


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


def measure(settings, name: str, path: Path, texts: list[str], replies: list[str]) -> list[dict]:  # type: ignore[no-untyped-def]
    """One encoder's rows: the messages grouped at the fixed distance and at the seed KB's own, each scored."""
    from bot import traffic
    from bot.encoder import Encoder
    from bot.index.search import KBIndex
    from bot.intents import load_intents
    from bot.kb.files import read_kb

    encoder = Encoder(path, settings.encoder_backend, settings.models_dir / "onnx")
    index = KBIndex.build(read_kb(PROJECT / "kb", load_intents(PROJECT)), encoder, settings.index, "traffic-groups")
    vectors = traffic.message_vectors(encoder, texts)
    rows = []
    for how, distance in (("fixed", traffic.CLUSTER_DISTANCE), ("the KB's phrasings", traffic.group_distance(index))):
        rows.append({"encoder": name, "distance": how, "value": round(distance, 3), **scores(traffic.groups_within(vectors, distance), replies)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", type=Path, action="append", help="a sentence-transformers directory (repeatable)")
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
    texts, replies = labelled_messages()
    print(f"{len(texts)} labelled messages, {len(set(replies))} replies\n")
    rows = [row for name, path in encoders.items() for row in measure(settings, name, path, texts, replies)]
    print("| encoder | distance | value | groups | pair precision | pair recall | adjusted Rand |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['encoder']} | {r['distance']} | {r['value']:.3f} | {r['groups']} | {r['pair_precision']:.3f} | {r['pair_recall']:.3f} | {r['adjusted_rand']:.3f} |")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"messages": len(texts), "rows": rows}, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nwrote {RESULTS.relative_to(PROJECT)}")


if __name__ == "__main__":
    main()
