"""The test session's trained models, made by a background process while the tests that need none run first: the
encoder fine-tuned on the seed KB (the `bot train` step), then the Rasa model on config.yml and data/."""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
MODEL_NAME = "test-model"


def train(models_dir: Path) -> None:
    from bot.encoder import resolve_encoder
    from bot.finetune import finetune_encoder
    from bot.intents import load_intents
    from bot.kb.files import read_kb
    from bot.nlu import train_model
    from bot.settings import load_settings

    settings = load_settings(PROJECT)
    content = read_kb(PROJECT / "kb", load_intents(PROJECT))
    path, _ = finetune_encoder(models_dir, resolve_encoder(settings.encoder), content, (), settings.finetune, echo=print)
    print(f"fine-tuned encoder: {path}", flush=True)
    print(f"Rasa model: {train_model(PROJECT, models_dir, fixed_name=MODEL_NAME)}", flush=True)


if __name__ == "__main__":
    train(Path(sys.argv[1]))
