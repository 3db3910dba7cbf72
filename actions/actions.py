"""The rasa-sdk actions: `action_suggest_replies` answers each buyer message with the bot engine's suggestions."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

logger = logging.getLogger(__name__)
PROJECT = Path(__file__).resolve().parents[1]
SYNC_EVERY_S = 0.5  # how often the engine picks up approved KB edits


class _EngineHolder:
    """Loads the engine once, in the background from import time (Rasa + encoder take ~20 s), for all requests."""

    def __init__(self) -> None:
        self._engine: Any = None
        self._error: Optional[BaseException] = None
        self._ready = threading.Event()
        self._last_sync = 0.0
        threading.Thread(target=self._load, name="engine-load", daemon=True).start()

    def _load(self) -> None:
        try:
            from bot.segment import (
                load_user_dicts,  # noqa: F401  (fail early if the bot package is missing)
            )
            from bot.settings import load_settings
            from bot.suggest import Engine

            settings = load_settings(Path(os.environ.get("BOT_PROJECT_DIR") or PROJECT))
            model = os.environ.get("BOT_MODEL")
            self._engine = Engine.from_settings(settings, model_path=Path(model) if model else None)
        except BaseException as exc:  # reported on every request, not lost in a thread
            logger.exception("the bot engine could not be loaded")
            self._error = exc
        finally:
            self._ready.set()

    def get(self) -> Any:
        self._ready.wait()
        if self._error is not None:
            raise RuntimeError(f"the bot engine could not be loaded: {self._error}")
        if time.monotonic() - self._last_sync > SYNC_EVERY_S:
            # Claimed before catching up: while one request applies a long import, the others answer from the index
            # as it is rather than all queueing on the engine's lock.
            self._last_sync = time.monotonic()
            self._engine.catch_up()
        return self._engine


ENGINE = _EngineHolder()


def suggest_for_tracker(events: List[Dict[Text, Any]]) -> Dict[Text, Any]:
    """The engine's suggestions for the tracker's latest buyer message, in the conversation's context."""
    from bot.context import SUGGESTIONS_KEY, from_rasa_events
    from bot.errors import MessageError

    text, conversation = from_rasa_events(events)
    try:
        result = ENGINE.get().suggest(text, context=conversation).to_dict()
    except MessageError as exc:
        return {SUGGESTIONS_KEY: [], "error": str(exc)}
    return result


class ActionSuggestReplies(Action):
    """Send the agent (not the buyer) the ranked, filled replies for the latest message, as a custom payload."""

    def name(self) -> Text:
        return "action_suggest_replies"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(None, suggest_for_tracker, list(tracker.events))
        dispatcher.utter_message(json_message=result)
        return []


class ActionSessionStart(Action):
    """Start every session in agent-assist mode (data/rules/agent_assist.yml), carrying slots over as Rasa does."""

    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        carried = [SlotSet(key, value) for key, value in tracker.current_slot_values().items() if value is not None]
        return [SessionStarted(), *carried, SlotSet("agent_assist", True), ActionExecuted("action_listen")]
