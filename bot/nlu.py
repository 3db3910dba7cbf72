"""Intent classification with the project's trained Rasa model (JiebaTokenizer + DIETClassifier)."""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Coroutine, TypeVar

from bot.errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class IntentScore:
    name: str
    confidence: float


@dataclass(frozen=True)
class IntentParse:
    """The Rasa model's reading of one message: the top intent and the full ranking."""

    intent: IntentScore
    ranking: tuple[IntentScore, ...]

    def confidence_of(self, intent: str) -> float:
        return next((s.confidence for s in self.ranking if s.name == intent), 0.0)


def quiet_rasa() -> None:
    """Keep TensorFlow's and Rasa's start-up chatter out of the agent's terminal."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("LOG_LEVEL_LIBRARIES", "ERROR")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    for name in ("rasa", "tensorflow", "absl", "apscheduler", "sanic"):
        logging.getLogger(name).setLevel(logging.ERROR)
    import jieba
    import structlog

    jieba.setLogLevel(logging.WARNING)

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def latest_model(models_dir: Path) -> Path:
    """The newest Rasa model archive in models/ (what `rasa shell` would pick)."""
    models = sorted(Path(models_dir).glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise ConfigError(f"no trained Rasa model in {models_dir}/; run `bot train` first")
    return models[-1]


def complete_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Finish a coroutine that never suspends, without an event loop.

    `Agent.parse_message` is async only for Rasa's HTTP interpreter; a local model parses
    synchronously. Driving it directly works from any thread, even one that already runs an
    event loop (the web server's, or a test browser's), where `run_until_complete` would refuse.
    """
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError("Rasa's parse_message waited on I/O; only a local model is supported")


def load_classifier(model_path: Path) -> "IntentClassifier":
    """The Rasa model at this path, loaded once per process (a load rebuilds its TensorFlow graphs: most of a start);
    `bot eval --compare` and every engine on the same archive share it. A rewritten archive is loaded afresh."""
    path = Path(model_path)
    if not path.is_file():
        raise ConfigError(f"Rasa model not found: {model_path}")
    stat = path.stat()
    return _load_classifier(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _load_classifier(path: str, mtime_ns: int, size: int) -> "IntentClassifier":
    return IntentClassifier(Path(path))


class IntentClassifier:
    """A loaded Rasa model; `parse(text)` may be called from any thread."""

    def __init__(self, model_path: Path) -> None:
        quiet_rasa()
        from rasa.core.agent import Agent

        if not Path(model_path).is_file():
            raise ConfigError(f"Rasa model not found: {model_path}")
        self.model_path = Path(model_path)
        self._agent = Agent.load(str(model_path))
        if not self._agent.is_ready():
            raise ConfigError(f"Rasa model {model_path} could not be loaded")

    @property
    def agent(self) -> Any:
        """The loaded Rasa agent (its policies predict the next reply: bot.dialogue)."""
        return self._agent

    def parse(self, text: str) -> IntentParse:
        result = complete_sync(self._agent.parse_message(text))
        ranking = tuple(
            IntentScore(str(item["name"]), float(item["confidence"])) for item in result.get("intent_ranking") or ()
        )
        top = result.get("intent") or {}
        intent = IntentScore(str(top.get("name") or "out_of_scope"), float(top.get("confidence") or 0.0))
        return IntentParse(intent=intent, ranking=ranking or (intent,))


def train_model(project_dir: Path, output_dir: Path, nlu_only: bool = False, fixed_name: str | None = None) -> Path:
    """Train the project's Rasa model (`rasa train`, or `rasa train nlu`) and return the archive path."""
    quiet_rasa()
    project_dir = Path(project_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _train(project_dir, output_dir, nlu_only, fixed_name)


def _train(project_dir: Path, output_dir: Path, nlu_only: bool, fixed_name: str | None) -> Path:
    from rasa.model_training import train, train_nlu

    if nlu_only:
        path = train_nlu(
            config=str(project_dir / "config.yml"),
            nlu_data=str(project_dir / "data"),
            output=str(output_dir),
            domain=str(project_dir / "domain.yml"),
            fixed_model_name=fixed_name,
        )
    else:
        result = train(
            domain=str(project_dir / "domain.yml"),
            config=str(project_dir / "config.yml"),
            training_files=[str(project_dir / "data")],
            output=str(output_dir),
            fixed_model_name=fixed_name,
        )
        path = result.model
    if not path:
        raise ConfigError("Rasa training produced no model (see the messages above)")
    return Path(path)
