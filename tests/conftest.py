"""Shared fixtures: one real Rasa model trained per test session, a real SQLite KB, the real encoder and index."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

PROJECT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DATA = Path(__file__).resolve().parent / "data"


def _load_yaml(path: Path):  # type: ignore[no-untyped-def]
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def project_dir() -> Path:
    return PROJECT


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("session")


@pytest.fixture(scope="session", autouse=True)
def models_dir(session_dir: Path) -> Iterator[Path]:
    """The session's trained models (BOT_MODELS_DIR, also for every `bot` subprocess): never the repo's models/."""
    path = session_dir / "models"
    path.mkdir(exist_ok=True)
    previous = os.environ.get("BOT_MODELS_DIR")
    os.environ["BOT_MODELS_DIR"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("BOT_MODELS_DIR", None)
    else:
        os.environ["BOT_MODELS_DIR"] = previous


@pytest.fixture(scope="session")
def finetuned_encoder(models_dir: Path) -> Path:
    """The encoder fine-tuned on the seed KB (the `bot train` step), once per session, in the session's models dir."""
    from bot.encoder import resolve_encoder
    from bot.finetune import finetune_encoder
    from bot.intents import load_intents
    from bot.kb.files import read_kb
    from bot.settings import load_settings

    settings = load_settings(PROJECT)
    content = read_kb(PROJECT / "kb", load_intents(PROJECT))
    path, _ = finetune_encoder(models_dir, resolve_encoder(settings.encoder), content, (), settings.finetune, echo=lambda _: None)
    return path


@pytest.fixture(scope="session")
def trained_model(models_dir: Path, finetuned_encoder: Path) -> Path:
    """The project's trained models, once per session: the fine-tuned encoder and the Rasa model, NLU and dialogue
    (`rasa train` on config.yml, data/); returns the Rasa archive."""
    from bot.nlu import train_model

    return train_model(PROJECT, models_dir, fixed_name="test-model")


@pytest.fixture()
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Settings pointing at a fresh data dir (SQLite file + index) under tmp_path."""
    from bot.settings import load_settings

    return load_settings(PROJECT, data_dir=tmp_path / "var")


@pytest.fixture(scope="session")
def engine(session_dir: Path, trained_model: Path):  # type: ignore[no-untyped-def]
    """The engine on the seed KB in a real SQLite file, with the session's trained model."""
    from bot.kb.sync import import_kb
    from bot.settings import load_settings
    from bot.suggest import Engine

    settings = load_settings(PROJECT, data_dir=session_dir / "var")
    import_kb(settings)
    return Engine.from_settings(settings, model_path=trained_model)


@pytest.fixture(scope="session")
def paraphrases_test() -> list[dict]:
    return _load_yaml(DATA / "paraphrases_test.yml")


@pytest.fixture()
def kb_copy(tmp_path: Path) -> Path:
    """A writable copy of kb/ to break in tests."""
    target = tmp_path / "kb"
    shutil.copytree(PROJECT / "kb", target)
    return target


@pytest.fixture()
def project_copy(tmp_path: Path) -> Path:
    """The project's KB, data/ (NLU, stories, dictionary), domain and settings in a directory of their own, for
    commands and servers that write into the project (`bot kb nlu`, the editor's NLU export write data/nlu/)."""
    project = tmp_path / "project"
    for name in ("kb", "data"):
        shutil.copytree(PROJECT / name, project / name)
    for name in ("domain.yml", "bot.yml", "config.yml"):
        shutil.copyfile(PROJECT / name, project / name)
    return project


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} not installed (Debian package 'chromium'; scripts/install installs it as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def server(session_dir: Path, trained_model: Path) -> Iterator[dict[str, str]]:
    """`bot serve` as a subprocess against its own SQLite file, with the session's model (one per session)."""
    from live_server import run_server

    yield from run_server(session_dir, trained_model)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One real PostgreSQL server per test session (skipped, with the reason, where it is not installed)."""
    from pg_server import postgres_server

    yield from postgres_server()
