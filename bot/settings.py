"""Settings read once from bot.yml and the environment (BOT_ENCODER, BOT_ENCODER_BACKEND, BOT_DB, BOT_DATA_DIR, BOT_MODELS_DIR)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from bot.errors import ConfigError

SETTINGS_FILE = "bot.yml"
DEFAULT_ENCODER = "m3e-small"
DEFAULT_BACKEND = "onnx"


@dataclass(frozen=True)
class IndexSettings:
    dense_weight: float = 0.95
    lexical_weight: float = 0.05
    answer_weight: float = 0.8
    kind: str = "auto"  # auto: exact (flat) below exact_max_rows rows, HNSW above; or "flat" / "hnsw"
    exact_max_rows: int = 200_000
    hnsw_m: int = 32
    hnsw_ef_construction: int = 200
    hnsw_ef_search: int = 256  # the least; the search widens as the graph grows (see ef_search)
    hnsw_rows_per_ef: int = 1000  # one more candidate per this many rows: recall at a fixed width falls with size
    memory_budget_mb: float = 2048  # shops' indexes held in memory at once, at most (least recently used dropped first)

    def __post_init__(self) -> None:
        if self.kind not in ("auto", "flat", "hnsw"):
            raise ConfigError(f"index.kind must be auto, flat or hnsw, not {self.kind!r}")
        if self.hnsw_ef_search < 1 or self.hnsw_rows_per_ef < 1:
            raise ConfigError("index.hnsw_ef_search and index.hnsw_rows_per_ef must be positive")
        if not self.memory_budget_mb > 0:
            raise ConfigError(f"index.memory_budget_mb must be positive, not {self.memory_budget_mb!r}")

    def ef_search(self, n_rows: int) -> int:
        """How wide HNSW searches a graph of n_rows: 256 at 400k rows gave recall@10 0.97, 4M rows need about 4000."""
        return max(self.hnsw_ef_search, n_rows // self.hnsw_rows_per_ef)


@dataclass(frozen=True)
class SuggestSettings:
    k: int = 3
    intent_weight: float = 0.3
    min_score: float = 0.61
    retrieval_intent_weight: float = 0.8
    retrieval_intent_temperature: float = 0.03
    context_weight: float = 0.3  # share of the dialogue model's next-reply prediction for a message with its own topic
    holding_score: float = 0.6  # retrieval score an intent's holding reply (tag "holding") has at least
    clause_retrieval: bool = False  # score each entry by its best clause too, for messages of several clauses
    context_retrieval: bool = True  # in a conversation, also search with the previous buyer message before this one
    min_known_share: float = 0.5  # abstain on a message whose Chinese characters are mostly absent from the KB
    order_fact_factor: float = 0.9  # an entry using {order.*} facts: score times this if one is missing, divided if all known


@dataclass(frozen=True)
class FinetuneSettings:
    """`bot train` fine-tunes the encoder on the KB's phrasings and agents' sent suggestions (bot/finetune.py)."""

    enabled: bool = True
    epochs: int = 2
    batch_size: int = 32
    learning_rate: float = 3e-5
    by_intent: bool = False  # batches of one intent's entries: harder negatives
    seed: int = 42
    max_tokens: int = 64  # texts cut to this many tokens in training (answers run to 90; questions to 35)


@dataclass(frozen=True)
class Limits:
    """What the server accepts; anything beyond gets a 4xx that says which limit, and changes nothing."""

    max_message_chars: int = 1000  # a buyer message
    max_reply_chars: int = 4000  # an agent's reply
    max_body_bytes: int = 65_536  # a JSON request body
    max_import_bytes: int = 5_000_000  # a KB CSV upload


@dataclass(frozen=True)
class RetentionSettings:
    """How long buyers' conversations and the feedback on them are kept (`bot db prune`, and hourly in `bot serve`)."""

    days: float = 180.0  # 0 keeps everything


@dataclass(frozen=True)
class AuthSettings:
    session_hours: float = 12.0  # a browser login lasts one shift
    secure_cookies: bool = False  # true behind an HTTPS reverse proxy: cookies are then only sent over HTTPS
    login_failures_per_account: int = 5  # wrong passwords for one account within the window before it must wait
    login_failures_per_address: int = 20  # wrong passwords from one client address within the window
    login_window_minutes: float = 15.0
    hashing_threads: int = 2  # password hashing runs in its own pool, never in the one requests share


@dataclass(frozen=True)
class Settings:
    """Where things live and how the engine scores; one instance per process."""

    project_dir: Path
    data_dir: Path
    db_url: str
    encoder: str = DEFAULT_ENCODER
    encoder_backend: str = DEFAULT_BACKEND
    index: IndexSettings = field(default_factory=IndexSettings)
    suggest: SuggestSettings = field(default_factory=SuggestSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    limits: Limits = field(default_factory=Limits)
    auth: AuthSettings = field(default_factory=AuthSettings)
    finetune: FinetuneSettings = field(default_factory=FinetuneSettings)
    models_path: Path | None = None  # where trained models live (BOT_MODELS_DIR); None: <project>/models

    @property
    def kb_dir(self) -> Path:
        return self.project_dir / "kb"

    @property
    def models_dir(self) -> Path:
        """Trained models: the Rasa archives and the fine-tuned encoder (models/encoders/)."""
        return self.models_path or self.project_dir / "models"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def encoders_dir(self) -> Path:
        """ONNX exports of the encoder, made on first use."""
        return self.data_dir / "encoders"

    def with_overrides(self, **changes: Any) -> "Settings":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def default_db_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'bot.sqlite3').resolve()}"


def _section(raw: dict[str, Any], name: str, cls: type) -> Any:
    values = raw.get(name) or {}
    if not isinstance(values, dict):
        raise ConfigError(f"{SETTINGS_FILE}: '{name}' must be a mapping")
    known = {f.name for f in fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"{SETTINGS_FILE}: unknown setting(s) in '{name}': {', '.join(sorted(unknown))}")
    try:
        return cls(**{k: type(getattr(cls(), k))(v) for k, v in values.items()})
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{SETTINGS_FILE}: bad value in '{name}': {exc}") from exc


def load_settings(project_dir: Path | str | None = None, **overrides: Any) -> Settings:
    """Read bot.yml from the project directory, then apply environment and explicit overrides."""
    from ruamel.yaml import YAML, YAMLError

    project = Path(project_dir or os.environ.get("BOT_PROJECT_DIR") or Path.cwd()).resolve()
    raw: dict[str, Any] = {}
    path = project / SETTINGS_FILE
    if path.exists():
        try:
            raw = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8")) or {}
        except YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: must be a mapping of settings")
    data_dir = Path(
        overrides.pop("data_dir", None) or os.environ.get("BOT_DATA_DIR") or project / "var"
    ).resolve()
    settings = Settings(
        project_dir=project,
        data_dir=data_dir,
        db_url=overrides.pop("db_url", None) or os.environ.get("BOT_DB") or default_db_url(data_dir),
        encoder=os.environ.get("BOT_ENCODER") or str(raw.get("encoder") or DEFAULT_ENCODER),
        encoder_backend=os.environ.get("BOT_ENCODER_BACKEND") or str(raw.get("encoder_backend") or DEFAULT_BACKEND),
        index=_section(raw, "index", IndexSettings),
        suggest=_section(raw, "suggest", SuggestSettings),
        retention=_section(raw, "retention", RetentionSettings),
        limits=_section(raw, "limits", Limits),
        auth=_section(raw, "auth", AuthSettings),
        finetune=_section(raw, "finetune", FinetuneSettings),
        models_path=Path(os.environ["BOT_MODELS_DIR"]).resolve() if os.environ.get("BOT_MODELS_DIR") else None,
    )
    return settings.with_overrides(**overrides)
