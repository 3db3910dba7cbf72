"""The intent names the shop uses, read from the Rasa domain (domain.yml) so there is one list."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from bot.errors import ConfigError

CORE_INTENTS = ("price", "shipping_fee", "authenticity", "delivery_time")
OUT_OF_SCOPE = "out_of_scope"


@lru_cache(maxsize=8)
def load_intents(project_dir: Path) -> tuple[str, ...]:
    """Return the intents declared in ``domain.yml`` (in the file's order)."""
    from ruamel.yaml import YAML, YAMLError

    path = Path(project_dir) / "domain.yml"
    try:
        domain = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: not found (is this a bot project directory?)") from exc
    except YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    intents = domain.get("intents") if isinstance(domain, dict) else None
    if not isinstance(intents, list) or not intents:
        raise ConfigError(f"{path}: has no 'intents' list")
    names = [next(iter(i)) if isinstance(i, dict) else str(i) for i in intents]
    return tuple(names)
