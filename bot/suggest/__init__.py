"""The suggestion engine, as the rest of the code imports it: `Engine` (the pipeline) and `SharedNlu` (one Rasa model per process)."""

from bot.suggest.engine import Engine, SharedNlu

__all__ = ["Engine", "SharedNlu"]
