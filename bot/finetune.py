"""Fine-tune the sentence encoder on the shop's own phrasings (in-batch negatives): a `bot train` step, minutes on a CPU.

Every approved entry's question variants are positives for each other and for the entry's answer; the other entries
in the batch are the negatives (sentence-transformers' MultipleNegativesRankingLoss). A batch never holds two pairs of
one entry, so no positive is ever pushed away as a negative. Buyer messages whose suggestion an agent sent unedited
(the feedback table) are added as positives of that entry. The result is an ordinary sentence-transformers directory.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from bot.encoder import FINETUNED_POINTER, encoder_fingerprint, finetuned_root
from bot.kb import KBContent
from bot.kb.template import fill
from bot.normalize import VERSION as NORMALIZE_VERSION
from bot.normalize import normalize
from bot.settings import FinetuneSettings

KEEP = 2  # fine-tuned encoders kept in models/encoders/ (the current one and the one before)


@dataclass(frozen=True)
class Pair:
    anchor: str
    positive: str
    entry_id: str
    to_answer: bool = False  # the positive is the entry's answer (long), not a question


def training_pairs(content: KBContent, accepted: Iterable[tuple[str, str]] = (), seed: int = 42) -> list[Pair]:
    """For each question: one other question of its entry and the entry's answer; for each accepted (message, entry): the entry's first question."""
    rng = random.Random(seed)
    pairs: list[Pair] = []
    entries = {e.id: e for e in content.approved() if e.questions}
    for entry in entries.values():
        questions = [normalize(q) for q in entry.questions]
        answer = normalize(fill(entry.answer, content.shop).text)
        for i, question in enumerate(questions):
            others = questions[:i] + questions[i + 1 :]
            if others:
                pairs.append(Pair(question, rng.choice(others), entry.id))
            pairs.append(Pair(question, answer, entry.id, to_answer=True))
    for message, entry_id in accepted:
        entry = entries.get(entry_id)
        if entry is not None:
            pairs.append(Pair(normalize(message), normalize(rng.choice(entry.questions)), entry_id))
    return pairs


def batches(pairs: Sequence[Pair], batch_size: int, rng: random.Random, by_intent: bool = False) -> list[list[Pair]]:
    """Shuffled batches in which no entry appears twice (its pairs would be each other's false negatives), each of one
    kind: question to question, or question to answer. A batch pads to its longest text, so short question batches
    train in half the time of batches that carry an answer.

    With `by_intent`, entries of one intent share batches: their neighbours are the negatives that are hard to tell apart.
    """
    out = [batch for kind in (False, True) for batch in _batches([p for p in pairs if p.to_answer == kind], batch_size, rng, by_intent)]
    rng.shuffle(out)
    return out


def _batches(pairs: Sequence[Pair], batch_size: int, rng: random.Random, by_intent: bool) -> list[list[Pair]]:
    by_entry: dict[str, list[Pair]] = defaultdict(list)
    for pair in pairs:
        by_entry[pair.entry_id].append(pair)
    for group in by_entry.values():
        rng.shuffle(group)
    out: list[list[Pair]] = []
    while by_entry:
        ids = list(by_entry)
        rng.shuffle(ids)
        if by_intent:
            order = {intent: rng.random() for intent in {i.split(".")[0] for i in ids}}
            ids.sort(key=lambda i: order[i.split(".")[0]])
        for start in range(0, len(ids), batch_size):
            batch = [by_entry[i].pop() for i in ids[start : start + batch_size]]
            if len(batch) > 1:
                out.append(batch)
        by_entry = {i: group for i, group in by_entry.items() if group}
    return out


def fingerprint(base_fingerprint: str, pairs: Sequence[Pair], settings: FinetuneSettings) -> str:
    """Names the fine-tuned model: the base encoder, the training pairs and the settings (`enabled` aside)."""
    recipe = (settings.epochs, settings.batch_size, settings.learning_rate, settings.by_intent, settings.seed, settings.max_tokens)
    digest = hashlib.sha256(f"{base_fingerprint}:{NORMALIZE_VERSION}:{recipe}".encode())
    for pair in pairs:
        digest.update(f"{pair.anchor}\t{pair.positive}\t{pair.entry_id}\n".encode())
    return digest.hexdigest()[:16]


def finetune_encoder(
    models_dir: Path,
    base: Path,
    content: KBContent,
    accepted: Iterable[tuple[str, str]],
    settings: FinetuneSettings,
    echo: Callable[[str], None] = print,
    progress: bool = False,
) -> tuple[Path, bool]:
    """The encoder fine-tuned for this KB under models_dir/encoders/, made the current one: (its path, whether it was trained now).

    The same base, pairs and settings give the same directory, which is reused; older ones beyond KEEP are removed.
    """
    pairs = training_pairs(content, accepted, settings.seed)
    base_fingerprint = encoder_fingerprint(base)
    root = finetuned_root(models_dir)
    target = root / fingerprint(base_fingerprint, pairs, settings)
    trained = not (target / "config.json").is_file()
    if trained:
        root.mkdir(parents=True, exist_ok=True)
        finetune(base, pairs, target, settings, echo, progress)
    pointer = root / FINETUNED_POINTER
    tmp = pointer.with_suffix(".tmp")
    tmp.write_text(json.dumps({"base": base_fingerprint, "dir": target.name}), encoding="utf-8")
    tmp.replace(pointer)
    old = sorted((d for d in root.iterdir() if d.is_dir() and d != target and not d.name.startswith(".")), key=lambda d: d.stat().st_mtime)
    for directory in old[: max(0, len(old) - (KEEP - 1))]:
        import shutil

        shutil.rmtree(directory, ignore_errors=True)
    return target, trained


def finetune(
    base: Path,
    pairs: Sequence[Pair],
    out: Path,
    settings: FinetuneSettings = FinetuneSettings(),
    echo: Callable[[str], None] = print,
    progress: bool = False,
) -> Path:
    """Train a copy of the encoder at `base` on the pairs and save it to `out` (written to a temporary directory first)."""
    import torch
    from sentence_transformers import SentenceTransformer, losses
    from tqdm import tqdm

    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    model = SentenceTransformer(str(base), device="cpu")
    max_seq_length = model.max_seq_length
    model.max_seq_length = min(max_seq_length, settings.max_tokens)  # in training only: an answer's opening carries its topic
    loss = losses.MultipleNegativesRankingLoss(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate)
    plan = [batches(pairs, settings.batch_size, rng, settings.by_intent) for _ in range(settings.epochs)]
    steps = sum(len(epoch) for epoch in plan)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / max(1, steps // 10)))
    echo(f"      fine-tuning on {len(pairs)} pairs: {settings.epochs} epochs, {steps} steps")
    tokenize = getattr(model, "preprocess", None) or model.tokenize  # sentence-transformers 5 renamed it
    model.train()
    with tqdm(total=steps, desc="fine-tuning", unit="step", disable=not progress) as bar:
        for epoch in plan:
            for batch in epoch:
                features = [tokenize([p.anchor for p in batch]), tokenize([p.positive for p in batch])]
                value = loss(features, labels=None)
                value.backward()
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
                bar.update(1)
    model.eval()
    model.max_seq_length = max_seq_length
    tmp = out.with_name(f".{out.name}.tmp")
    model.save(str(tmp))
    (tmp / "finetune.json").write_text(json.dumps({"base": str(base), "pairs": len(pairs), "settings": settings.__dict__}), encoding="utf-8")
    if out.exists():
        import shutil

        shutil.rmtree(out)
    tmp.rename(out)
    return out
