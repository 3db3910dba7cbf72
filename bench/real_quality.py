"""Real buyers' messages: the engine before and after, side by side in one run, on ../shared/data/real_dev.

    .venv/bin/python bench/real_quality.py                      # before = 7d82286 (main before issue 17), after = this tree
    .venv/bin/python bench/real_quality.py --before HEAD~3 --errors tune
    .venv/bin/python bench/real_quality.py --only after --errors tune   # quicker: this tree alone
    .venv/bin/python bench/real_quality.py --only after --repeat 0 --seeds 42,43,44   # how far a fine-tuning draw moves it

Each engine runs in its own process on its own code, KB and Rasa model (trained once per tree and cached
under bench/out/real_quality/). The set is split by a salted hash, stratified by intent, into a tuning part
(look at its errors, tune on it) and a report part (only read its figures). Both are printed, for
messages.jsonl and conversations.jsonl (each turn with its earlier turns as context), on the set's own
labels and with bench/real_dev_relabels.yml (labels for entries added to the KB since). suggest latency is
measured in each process against one raw encoder call, and reported as p95 and as that ratio.

A second table gives each rate a 95% bootstrap interval, and the change from before with the interval of the paired
difference (the same resampled messages, whole conversations at a time, score both engines). About 180 answerable
messages per part: a change of a few lines is within that interval, so keep a change only when its interval clears 0.
A third table gives acceptable first / top 3 per labelled intent on each part of messages.jsonl: an intent much weaker
on the report part than on the tuning part is one fitted to the tuning part's lines. Writes bench/results/real_quality.json.

--set finetune.NAME=VALUE fine-tunes the after engine's encoder with that change (once, cached). With --seeds, the
after engine's encoder is fine-tuned once per seed (`finetune.seed`; each cached) and a last table
gives each draw's acceptable first / top 3 and offered on unanswerable, with their mean and range: the same recipe,
trained again, moves these figures, so a change is worth keeping only when it beats that range, over the same seeds.
The other tables read the first seed's engine.

--errors tune lists the tuning part's misses, and a table of where the after engine ranks the first acceptable entry
there when it neither stops at 3 nor abstains (20 replies, no min_score), split by whether the intent it read is one of
an acceptable entry's: misses with the right intent are the ranking's, the others the reading's (of the message, or of
it in its conversation). Searching for 20 replies goes deeper than for 3, so its first place and intent are close to
the shipped engine's, not always the same; abstentions for other reasons than min_score are counted apart.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Sequence

os.environ.setdefault("HF_HUB_OFFLINE", "1")
PROJECT = Path(__file__).resolve().parents[1]
BEFORE_REF = "7d82286"
CACHE = PROJECT / "bench" / "out" / "real_quality"
RATE_NAMES = {"first": "acceptable first", "top3": "acceptable in top 3", "abstained_on_answerable": "abstained on answerable",
              "offered_on_unanswerable": "offered on unanswerable"}
FIGURES = [
    ("intent acc / macro-F1", "intent_accuracy", "intent_macro_f1"),
    ("core4+other acc / macro-F1", "core_intent_accuracy", "core_intent_macro_f1"),
    ("acceptable first / top 3", "first", "top3"),
]


# -- running one engine (in its own process, on its own tree) ------------------------------------------


RANK_DEPTH = 20  # how deep --errors looks for the first acceptable entry
RANK_BUCKETS = ("1st", "2nd-3rd", "4th-10th", f"11th-{RANK_DEPTH}th", f"not in {RANK_DEPTH}", "abstained")


def predict(project: Path, model: Path, data_dir: Path, out: Path, repeat: int, overrides: list[str], ranks_of: str | None = None) -> None:
    """Suggest for every dev line with the engine of `project` (imported from there), timing a latency pass; for
    the lines of part `ranks_of`, also the first RANK_DEPTH replies with no min_score (under "deep")."""
    sys.path.insert(0, str(project))
    sys.path.insert(0, str(PROJECT / "bench"))
    import bot
    from bot.kb.sync import import_kb
    from bot.settings import load_settings
    from bot.suggest import Engine

    import real_dev

    assert Path(bot.__file__).resolve().is_relative_to(project), f"{bot.__file__} is not the code of {project}"
    lines = [line for part in real_dev.load(data_dir).values() for line in part]
    predictions: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(project, data_dir=Path(tmp))
        for assignment in overrides:
            settings = real_dev.with_setting(settings, *assignment.split("=", 1))
        import_kb(settings)
        engine = Engine.from_settings(settings, model_path=model)
        engine.suggest("你好")  # warm-up
        for line in lines:
            result = engine.suggest(line.text, context=list(line.context) or None)
            predictions[line.key] = {
                "intent": result.intent.name,
                "confidence": round(result.intent.confidence, 4),
                "ids": [r.id for r in result.suggestions],
                "scores": [r.score for r in result.suggestions],
                "abstained": result.abstained,
                "reason": result.reason,
            }
        if ranks_of:
            unabstaining = real_dev.with_setting(settings, "suggest.min_score", "-1")
            deep = Engine(unabstaining, None, engine.store, engine.encoder, nlu=engine.nlu, vectors=engine.index)
            for line in lines:
                if line.part == ranks_of:
                    result = deep.suggest(line.text, context=list(line.context) or None, k=RANK_DEPTH)
                    predictions[line.key]["deep"] = {"intent": result.intent.name, "ids": [r.id for r in result.suggestions],
                                                     "abstained": result.abstained}
        texts = [line.text for line in lines if line.file == "messages.jsonl"]
        suggest_ms, encode_ms = [], []
        for _ in range(repeat):
            for text in texts:
                engine.encoder.clear_cache()
                start = time.perf_counter()
                engine.encoder.encode([text])  # the baseline: one uncached encoder call
                encode_ms.append((time.perf_counter() - start) * 1000)
                engine.encoder.clear_cache()  # suggest pays for its own encoding, as for a new message
                start = time.perf_counter()
                engine.suggest(text)
                suggest_ms.append((time.perf_counter() - start) * 1000)
    out.write_text(json.dumps({"predictions": predictions, "suggest_ms": suggest_ms, "encode_ms": encode_ms}), encoding="utf-8")


# -- preparing trees and models --------------------------------------------------------------------------


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=PROJECT, check=True, capture_output=True, text=True).stdout.strip()


def tree_at(ref: str) -> Path:
    """The project as committed at `ref`, unpacked once under bench/out/real_quality/."""
    sha = _git("rev-parse", "--short=12", ref)
    tree = CACHE / f"tree-{sha}"
    if not (tree / "bot.yml").is_file():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", sha], cwd=PROJECT, check=True, capture_output=True).stdout
        with tempfile.NamedTemporaryFile(suffix=".tar") as tmp:
            tmp.write(archive)
            tmp.flush()
            with tarfile.open(tmp.name) as tar:
                tar.extractall(tree)
    return tree


def _fingerprint(tree: Path, paths: list[Path], extra: str = "") -> str:
    digest = hashlib.sha256(extra.encode())
    for path in paths:
        if path.is_file():
            digest.update(str(path.relative_to(tree)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def model_for(tree: Path) -> Path:
    """A Rasa model trained on this tree's config.yml and data/ with its own code, cached by their content."""
    inputs = [tree / "config.yml", tree / "domain.yml", *sorted(p for p in (tree / "data").rglob("*") if p.is_file()),
              tree / "bot" / "rasa_tokenizer.py", tree / "bot" / "normalize.py"]  # the code config.yml runs
    target = CACHE / "models" / f"{_fingerprint(tree, inputs)}.tar.gz"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    print(f"training a Rasa model for {tree.name} (a few minutes, once per data change) ...", flush=True)
    code = (
        "from pathlib import Path; from bot.nlu import train_model; "
        f"train_model(Path({str(tree)!r}), Path({str(target.parent)!r}), fixed_name={target.name[:-7]!r})"
    )
    _run_logged(code, tree, target.with_suffix(".log"))
    return target


def _scalar(value: str) -> Any:
    """A --set value as the fingerprint records it: 43 and "43" are one recipe."""
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def _bot_yml(tree: Path) -> dict[str, Any]:
    """A tree's bot.yml as plain data (ruamel.yaml, the YAML library pyproject declares)."""
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load((tree / "bot.yml").read_text(encoding="utf-8")) or {}


def encoders_for(tree: Path, changes: Sequence[str] = ()) -> Path | None:
    """A models directory holding this tree's fine-tuned encoder (bot/finetune.py on its kb/ and bot.yml, with the
    `finetune.NAME=VALUE` changes made), cached by their content; None for a tree that does not fine-tune."""
    if not (tree / "bot" / "finetune.py").is_file():
        return None
    inputs = [*sorted(p for p in (tree / "kb").rglob("*") if p.is_file()), tree / "bot" / "finetune.py", tree / "bot" / "normalize.py"]
    config = _bot_yml(tree)  # of it only what fine-tuning reads: a changed threshold elsewhere retrains nothing
    used = {key: config.get(key) for key in ("encoder", "encoder_backend", "finetune")}
    if changes:
        made = dict(change.removeprefix("finetune.").split("=", 1) for change in changes)
        used["finetune"] = {**(used["finetune"] or {}), **{key: _scalar(value) for key, value in made.items()}}
    models = CACHE / "encoders" / _fingerprint(tree, inputs, json.dumps(used, sort_keys=True))
    if (models / "encoders" / "current.json").is_file():
        return models
    models.mkdir(parents=True, exist_ok=True)
    print(f"fine-tuning the encoder for {tree.name} (a few minutes, once per KB change) ...", flush=True)
    code = (
        "from pathlib import Path; from bot.settings import load_settings; from bot.kb.files import read_kb; "
        "from bot.intents import load_intents; from bot.encoder import resolve_encoder; from bot.finetune import finetune_encoder; "
        f"import sys; sys.path.insert(0, {str(PROJECT / 'bench')!r}); from real_dev import with_setting; "
        f"tree = Path({str(tree)!r}); s = load_settings(tree)\n"
        f"for change in {list(changes)!r}: s = with_setting(s, *change.split('=', 1))\n"
        f"finetune_encoder(Path({str(models)!r}), resolve_encoder(s.encoder), read_kb(tree / 'kb', load_intents(tree)), (), s.finetune)"
    )
    _run_logged(code, tree, models / "finetune.log")
    return models


def _run_logged(code: str, tree: Path, log: Path) -> None:
    with log.open("w") as handle:
        subprocess.run([sys.executable, "-c", code], cwd=tree, env=_env(tree), check=True, stdout=handle, stderr=handle)


def _env(tree: Path, models: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    if models is not None:
        env["BOT_MODELS_DIR"] = str(models)
    return env


def _seed_list(value: str) -> list[int]:
    """--seeds: distinct integers, comma-separated."""
    seeds = [int(seed) for seed in value.split(",")]
    if len(set(seeds)) < len(seeds):
        raise argparse.ArgumentTypeError(f"a seed given twice: {value}")
    return seeds


def _shipped_seed() -> int:
    """The fine-tuning seed of this tree: bot.yml's, else the code's default."""
    config = _bot_yml(PROJECT)
    sys.path.insert(0, str(PROJECT))
    from bot.settings import FinetuneSettings

    return int((config.get("finetune") or {}).get("seed", FinetuneSettings().seed))


def run_engine(name: str, tree: Path, data_dir: Path, repeat: int, overrides: list[str], seed: int | None = None,
               ranks_of: str | None = None) -> dict[str, Any]:
    """One engine's predictions; `finetune.*` overrides, and a seed, change its fine-tuned encoder (trained once each);
    `ranks_of` (a part) adds the deep replies of `predict` (this tree's engine only: older ones lack what it needs)."""
    recipe = [o for o in overrides if o.startswith("finetune.")] + ([f"finetune.seed={seed}"] if seed is not None else [])
    model, encoders = model_for(tree), encoders_for(tree, recipe)
    print(f"running {name}: {tree} with {model.name}" + (f" and the encoder in {encoders}" if encoders else "") + " ...", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "predictions.json"
        command = [sys.executable, str(Path(__file__).resolve()), "predict", "--project", str(tree), "--model", str(model),
                   "--data-dir", str(data_dir), "--out", str(out), "--repeat", str(repeat)] + [f"--set={o}" for o in overrides]
        command += [f"--ranks-of={ranks_of}"] if ranks_of else []
        subprocess.run(command, cwd=tree, env=_env(tree, encoders), check=True, stdout=subprocess.DEVNULL)
        return json.loads(out.read_text(encoding="utf-8"))


# -- the report ------------------------------------------------------------------------------------------


def _pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}"


def _table(results: dict[str, dict[str, Any]], names: list[str]) -> list[str]:
    rows = ["| set | part | labels | engine | n (answerable / not) | intent acc / macro-F1 | core4+other acc / macro-F1 "
            "| acceptable first / top 3 | abstained on answerable | offered on unanswerable |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for key, by_engine in results.items():
        file, part, labels = key.split("|")
        for name in names:
            s = by_engine[name]
            rows.append(
                f"| {file} | {part} | {labels} | {name} | {s['n']} ({s['answerable']} / {s['unanswerable']}) "
                + "".join(f"| {_fmt(s[a])} / {_fmt(s[b])} " for _, a, b in FIGURES)
                + f"| {_fmt(s['abstained_on_answerable'])} | {_fmt(s['offered_on_unanswerable'])} |"
            )
    return rows


def _interval_table(spread: dict[str, dict[str, Any]], names: list[str]) -> list[str]:
    """The rates again, each with its 95% bootstrap interval and, with two engines, the change and its paired interval:
    a change whose interval holds 0 is within what resampling the same number of real messages moves."""
    paired = len(names) == 2
    rows = [f"| set | part | labels | rate | n | {names[-1]} (95% interval) |" + (" before | change (95% interval) |" if paired else ""),
            "|---|---|---|---|---|---|" + ("---|---|" if paired else "")]
    for key, by_rate in spread.items():
        file, part, labels = key.split("|")
        for name, i in by_rate.items():
            if i is None:
                continue
            row = f"| {file} | {part} | {labels} | {RATE_NAMES[name]} | {i.n} | {i.value:.3f} ({i.low:.3f} to {i.high:.3f}) |"
            if paired:
                row += f" {i.before:.3f} | {i.change:+.3f} ({i.change_low:+.3f} to {i.change_high:+.3f}) |"
            rows.append(row)
    return rows


def _intent_table(by_intent: dict[str, dict[str, dict[str, Any]]], name: str) -> list[str]:
    """Each labelled intent's acceptable first / top 3 on the tuning and the report part of messages.jsonl (the set's
    own labels): an intent far weaker on the report part is one whose phrasings were fitted to the tuning part's lines."""
    rows = [f"| intent ({name}, messages.jsonl, answerable) | tune n | tune first / top 3 | report n | report first / top 3 "
            "| first: report - tune |", "|---|---|---|---|---|---|"]
    tune_part, report_part = by_intent["tune"], by_intent["report"]
    for intent in sorted(set(tune_part) | set(report_part)):
        tune, report = tune_part.get(intent), report_part.get(intent)
        cells = [f"{s['n']} | {s['first']:.2f} / {s['top3']:.2f}" if s else "0 | –" for s in (tune, report)]
        gap = f"{report['first'] - tune['first']:+.2f}" if tune and report else "–"
        rows.append(f"| {intent} | {cells[0]} | {cells[1]} | {gap} |")
    return rows


def _seed_table(by_seed: dict[int, dict[str, dict[str, Any]]]) -> list[str]:
    """Each fine-tuning draw's acceptable first / top 3 and offered on unanswerable (original labels), then their mean
    and range over the seeds."""
    keys = [key for key in next(iter(by_seed.values())) if key.endswith("|original")]
    rates = ("first", "top3", "offered_on_unanswerable")
    rows = ["| set | part | seed | acceptable first | acceptable in top 3 | offered on unanswerable |", "|---|---|---|---|---|---|"]
    for key in keys:
        file, part, _ = key.split("|")
        for seed, results in by_seed.items():
            rows.append(f"| {file} | {part} | {seed} | " + " | ".join(_fmt(results[key][r]) for r in rates) + " |")
        values = {r: [results[key][r] for results in by_seed.values() if results[key][r] is not None] for r in rates}
        rows.append(f"| {file} | {part} | mean (range) | " + " | ".join(
            f"{statistics.mean(v):.3f} ({min(v):.3f} to {max(v):.3f})" if v else "–" for v in values.values()) + " |")
    return rows


def _rank_bucket(rank: int | None, abstained: bool) -> int:
    """The index in RANK_BUCKETS of a 1-based rank (None: not among the deep replies), or of an abstention for another
    reason than min_score (no character the KB knows, a first message that only points back)."""
    if abstained:
        return len(RANK_BUCKETS) - 1
    if rank is None:
        return len(RANK_BUCKETS) - 2
    return 0 if rank == 1 else 1 if rank <= 3 else 2 if rank <= 10 else 3


def _rank_table(file: str, lines: list[Any], predictions: dict[str, Any]) -> list[str]:
    """Where the first acceptable entry ranks in the deep replies of the answerable lines, by whether the intent read
    is an acceptable entry's."""
    counts = {"an acceptable entry's": [0] * len(RANK_BUCKETS), "another": [0] * len(RANK_BUCKETS)}
    for line in lines:
        if not line.answerable:
            continue
        deep = predictions[line.key]["deep"]
        rank = next((i for i, entry_id in enumerate(deep["ids"], 1) if entry_id in line.acceptable), None)
        read = "an acceptable entry's" if deep["intent"] in {i.split(".")[0] for i in line.acceptable} else "another"
        counts[read][_rank_bucket(rank, deep["abstained"])] += 1
    rows = [f"| {file} (tuning part, relabelled) | intent read | answerable | " + " | ".join(RANK_BUCKETS) + " |",
            "|---|---|---|" + "---|" * len(RANK_BUCKETS)]
    rows += [f"| | {read} | {sum(row)} | " + " | ".join(map(str, row)) + " |" for read, row in counts.items()]
    return rows


def _errors(lines: list[Any], prediction: dict[str, Any]) -> None:
    for line in lines:
        p = prediction[line.key]
        offered = [] if p["abstained"] else p["ids"]
        wrong_first = line.answerable and (not offered or offered[0] not in line.acceptable)
        if wrong_first or (not line.answerable and offered) or p["intent"] != line.intent:
            context = " / ".join(t["text"] for t in line.context if t["role"] == "customer")
            print(f"{line.key}\t{line.text}" + (f"\t[ctx: {context}]" if context else "")
                  + f"\n    gold {line.intent} {list(line.acceptable)}\n    got  {p['intent']} {p['confidence']}"
                  + f" {list(zip(p['ids'], p['scores']))}" + (f" ABSTAINED ({p['reason']})" if p["abstained"] else ""))


def main() -> None:
    # `kill` stops the fine-tuning, training and predicting it runs too: subprocess.run kills its child on the way out
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    inner = sub.add_parser("predict", help="(internal) run one engine over the set")
    inner.add_argument("--project", type=Path, required=True)
    inner.add_argument("--model", type=Path, required=True)
    inner.add_argument("--data-dir", type=Path, required=True)
    inner.add_argument("--out", type=Path, required=True)
    inner.add_argument("--repeat", type=int, default=1)
    inner.add_argument("--set", action="append", default=[])
    inner.add_argument("--ranks-of", choices=("tune",), default=None)
    parser.add_argument("--before", default=BEFORE_REF, help=f"git ref of the engine before (default {BEFORE_REF})")
    parser.add_argument("--only", choices=("before", "after"), help="run one engine only")
    parser.add_argument("--data-dir", type=Path, default=None, help="real_dev directory (default ../shared/data/real_dev)")
    parser.add_argument("--repeat", type=int, default=2, help="latency passes over messages.jsonl (0: none)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.NAME=VALUE",
                        help="override a bot.yml setting of the after engine (to explore; the figures to report use bot.yml)")
    parser.add_argument("--seeds", type=_seed_list, default=None, metavar="42,43,44",
                        help="fine-tune the after engine's encoder with each seed and show the spread (the first seed's engine fills the other tables)")
    parser.add_argument("--errors", choices=("tune",), help="list the tuning part's misses of the after engine "
                        "(the report part's lines are never listed: tune on what you do not report)")
    args = parser.parse_args()

    sys.path.insert(0, str(PROJECT / "bench"))
    import real_dev

    if args.command == "predict":
        predict(args.project.resolve(), args.model.resolve(), args.data_dir.resolve(), args.out, args.repeat, args.set, args.ranks_of)
        return
    if args.seeds and args.only == "before":
        parser.error("--seeds draws the after engine's encoder: not with --only before")
    if args.seeds and any(o.startswith("finetune.seed=") for o in args.set):
        parser.error("give the seeds with --seeds or --set finetune.seed, not both")
    data_dir = (args.data_dir or real_dev.DEFAULT_DIR).resolve()
    lines = real_dev.load(data_dir)
    relabels = real_dev.read_relabels()
    trees = {"before": tree_at(args.before), "after": PROJECT}
    names = [n for n in trees if args.only in (None, n)]
    shipped = _shipped_seed()
    seed_labels = args.seeds or [shipped]  # the first seed's engine is "after" in every table but the seeds'
    if seed_labels[0] != shipped:
        print(f"the after engine's encoder is fine-tuned with seed {seed_labels[0]}, not bot.yml's {shipped}", flush=True)
    seeds = [None if seed == shipped else seed for seed in seed_labels]  # None: bot.yml's, cached as such
    runs = {name: run_engine(name, trees[name], data_dir, args.repeat, args.set if name == "after" else [],
                             seeds[0] if name == "after" else None, args.errors if name == "after" else None) for name in names}
    other_draws = {label: run_engine(f"after (seed {label})", PROJECT, data_dir, 0, args.set, seed)
                   for label, seed in zip(seed_labels[1:], seeds[1:])}

    results: dict[str, dict[str, Any]] = {}
    draws: dict[int, dict[str, dict[str, Any]]] = {}  # with --seeds: each other seed's scores, as results' after
    spread: dict[str, dict[str, real_dev.Interval | None]] = {}  # the last engine's rates with intervals (and changes)
    before = runs["before"]["predictions"] if len(names) == 2 else None  # with two engines, changes are of after - before
    for file, file_lines in lines.items():
        for part in real_dev.PARTS:
            chosen = [line for line in file_lines if line.part == part]
            for labels, labelled in (("original", chosen), ("relabelled", real_dev.relabel(chosen, relabels))):
                if labels == "relabelled" and not relabels:
                    continue
                results[f"{file}|{part}|{labels}"] = {n: real_dev.score(labelled, runs[n]["predictions"]) for n in names}
                for seed, draw in other_draws.items():
                    draws.setdefault(seed, {})[f"{file}|{part}|{labels}"] = real_dev.score(labelled, draw["predictions"])
                spread[f"{file}|{part}|{labels}"] = real_dev.intervals(labelled, runs[names[-1]]["predictions"], before)
    latency = {}
    for name in names if args.repeat > 0 else ():  # --repeat 0: figures only, no latency pass
        suggest_ms, encode_ms = runs[name]["suggest_ms"], runs[name]["encode_ms"]
        latency[name] = {
            "suggest_ms_p50": round(_pct(suggest_ms, 50), 1),
            "suggest_ms_p95": round(_pct(suggest_ms, 95), 1),
            "encode_ms_p50": round(statistics.median(encode_ms), 2),
            "suggest_p95_over_encode": round(_pct(suggest_ms, 95) / statistics.median(encode_ms), 2),
        }
    print("\n" + "\n".join(_table(results, names)))
    print("\n" + "\n".join(_interval_table(spread, names)))
    by_intent = {part: real_dev.by_intent([line for line in lines["messages.jsonl"] if line.part == part],
                                          runs[names[-1]]["predictions"]) for part in real_dev.PARTS}
    print("\n" + "\n".join(_intent_table(by_intent, names[-1])))
    if latency:
        print("\n| engine | suggest p50 ms | suggest p95 ms | one encoder call p50 ms | p95 / encoder call |\n|---|---|---|---|---|")
    for name, figures in latency.items():
        print(f"| {name} | {figures['suggest_ms_p50']} | {figures['suggest_ms_p95']} | {figures['encode_ms_p50']} "
              f"| {figures['suggest_p95_over_encode']} |")
    if len(latency) == 2:
        ratio = latency["after"]["suggest_ms_p95"] / latency["before"]["suggest_ms_p95"]
        print(f"\nsuggest p95 after / before: {ratio:.2f}x")
    by_seed = {seed_labels[0]: {key: by_engine["after"] for key, by_engine in results.items()}, **draws} if "after" in names else {}
    if len(by_seed) > 1:
        print("\n" + "\n".join(_seed_table(by_seed)))
    if args.errors:
        name = names[-1]
        tune = {file: real_dev.relabel([line for line in file_lines if line.part == "tune"], relabels) for file, file_lines in lines.items()}
        for file, file_lines in tune.items():
            print(f"\n## {name}: misses on the tuning part of {file}")
            _errors(file_lines, runs[name]["predictions"])
        for file, file_lines in tune.items() if name == "after" else ():  # only this tree's engine ranks deeper
            print("\n" + "\n".join(_rank_table(file, file_lines, runs[name]["predictions"])))
    out = PROJECT / "bench" / "results" / "real_quality.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    refs = {"before": _git("rev-parse", "--short=12", args.before), "after": f"working tree, fine-tuning seed {seed_labels[0]}"}
    intervals = {key: {name: asdict(i) if i else None for name, i in by_rate.items()} for key, by_rate in spread.items()}
    out.write_text(json.dumps({"refs": {n: refs[n] for n in names}, "results": results, "intervals": intervals,
                               "by_intent": by_intent, "latency": latency, "seeds": {str(k): v for k, v in by_seed.items()}},
                              ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nwrote {out.relative_to(PROJECT)}")


if __name__ == "__main__":
    main()
