"""The dialogue model (Rasa policies trained on data/stories/): which reply comes next, given the conversation so far."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

from bot.nlu import IntentScore

RESPONSE_PREFIX = "utter_"
# Intents with no reply of their own ("好的", "这个呢"): the conversation decides what comes next.
CONTEXTUAL_INTENTS = frozenset({"affirm", "follow_up"})
FOLLOW_UP = "follow_up"


@dataclass(frozen=True)
class Exchange:
    """One earlier turn: the intent of the buyer's message and the intent of the reply the agent gave (None: no reply)."""

    message_intent: str
    reply_intent: str | None


@dataclass(frozen=True)
class NextReply:
    """The dialogue model's prediction of the next reply, as intents (from `utter_<intent>`), most likely first."""

    intents: tuple[IntentScore, ...]
    action: str  # the action the policies chose (may be action_listen or another non-reply action)
    policy: str

    @property
    def top(self) -> IntentScore | None:
        return self.intents[0] if self.intents else None

    def probability(self, intent: str) -> float:
        return next((s.confidence for s in self.intents if s.name == intent), 0.0)


class DialoguePredictor:
    """Asks the trained policy ensemble (Memoization, Rule, TED) for the next reply; predictions are cached."""

    def __init__(self, processor: Any) -> None:
        self._processor = processor
        self._domain = processor.domain
        self._actions = set(self._domain.action_names_or_texts)
        schema = processor.model_metadata.predict_schema
        self._ensemble = processor.model_metadata.core_target
        # Learned policies (TED) rank every reply, even where rules and memorised stories have nothing to say.
        self._learned = [name for name, node in schema.nodes.items() if node.uses.__name__ == "TEDPolicy"]
        self.predict = lru_cache(maxsize=8192)(self._predict)  # type: ignore[method-assign]

    @classmethod
    def from_agent(cls, agent: Any) -> "DialoguePredictor | None":
        """The predictor for a loaded Rasa agent, or None when its model was trained without stories (NLU only)."""
        from rasa.shared.data import TrainingType

        processor = agent.processor
        if processor is None or processor.model_metadata.training_type == TrainingType.NLU:
            return None
        if not processor.model_metadata.core_target:
            return None
        return cls(processor)

    def reply_action(self, intent: str | None) -> str | None:
        """`utter_<intent>` if the domain has that response."""
        name = f"{RESPONSE_PREFIX}{intent}" if intent else None
        return name if name in self._actions else None

    def tracker(self, history: Sequence[Exchange], message_intent: str) -> Any:
        """A Rasa tracker for the conversation: a fresh session, the earlier exchanges, then this message."""
        from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
        from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
        from rasa.shared.core.trackers import DialogueStateTracker

        events: list[Any] = [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted(), ActionExecuted(ACTION_LISTEN_NAME)]
        for exchange in history:
            events.append(UserUttered(intent={"name": exchange.message_intent, "confidence": 1.0}))
            action = self.reply_action(exchange.reply_intent)
            if action:
                events.append(ActionExecuted(action))
            events.append(ActionExecuted(ACTION_LISTEN_NAME))
        events.append(UserUttered(intent={"name": message_intent, "confidence": 1.0}))
        return DialogueStateTracker.from_events("bot-engine", events, slots=self._domain.slots)

    def _predict(self, history: tuple[Exchange, ...], message_intent: str) -> NextReply:
        """The ensemble's choice; when that is no reply (RulePolicy's fallback for an unsure state), TED's own ranking."""
        from rasa.engine.constants import PLACEHOLDER_TRACKER

        targets = [self._ensemble, *self._learned]
        results = self._processor.graph_runner.run(
            inputs={PLACEHOLDER_TRACKER: self.tracker(history, message_intent)}, targets=targets
        )
        chosen = results[self._ensemble]
        intents = self._reply_intents(chosen.probabilities)
        policy = str(chosen.policy_name or "")
        for node in self._learned:
            if intents:
                break
            intents, policy = self._reply_intents(results[node].probabilities), f"{results[node].policy_name} (ranking)"
        names = self._domain.action_names_or_texts
        action = names[max(range(len(names)), key=chosen.probabilities.__getitem__)] if chosen.probabilities else ""
        return NextReply(intents, action, policy)

    def _reply_intents(self, probabilities: Sequence[float]) -> tuple[IntentScore, ...]:
        """The utter_<intent> actions' probabilities as intents, renormalised, most likely first."""
        replies = {
            name[len(RESPONSE_PREFIX):]: float(p)
            for name, p in zip(self._domain.action_names_or_texts, probabilities)
            if name.startswith(RESPONSE_PREFIX) and p > 0
        }
        total = sum(replies.values())
        ranked = sorted(replies.items(), key=lambda kv: -kv[1])
        return tuple(IntentScore(name, round(p / total, 6)) for name, p in ranked) if total else ()
