"""Ranking: the intent read from Rasa, retrieval and the dialogue together, and the replies ordered by retrieval and intent."""

from __future__ import annotations

from typing import Collection, Iterable, Mapping, Sequence

import numpy as np

from bot.index.search import Hit
from bot.kb.template import variables
from bot.nlu import IntentParse, IntentScore
from bot.order import ORDER_PREFIX
from bot.settings import SuggestSettings

CLARIFY_TAG = "clarify"
HOLDING_TAG = "holding"  # an intent's "I'll check and get back to you" reply: offered when nothing specific fits
RETRIEVAL_INTENT_DEPTH = 10  # the best entries whose intents move the reading of a message


def leading(parse: IntentParse, intent: str) -> IntentParse:
    """The parse with `intent` read for certain (from the message's words), the model's other readings after it."""
    top = IntentScore(intent, 1.0)
    return IntentParse(top, (top, *(s for s in parse.ranking if s.name != intent)))


def blend(ranking: Sequence[IntentScore], other: Iterable[tuple[str, float]], weight: float) -> IntentParse:
    """An intent ranking moved towards another reading: (1 - weight) of each intent's confidence plus weight of the
    other's (an intent may appear there several times: its shares add up), best first."""
    blended = {score.name: (1 - weight) * score.confidence for score in ranking}
    for name, confidence in other:
        blended[name] = blended.get(name, 0.0) + weight * confidence
    ordered = tuple(IntentScore(n, round(c, 6)) for n, c in sorted(blended.items(), key=lambda kv: -kv[1]))
    return IntentParse(intent=ordered[0], ranking=ordered)


def with_retrieval(nlu: IntentParse, hits: Sequence[Hit], settings: SuggestSettings) -> IntentParse:
    """Rasa's intent ranking, blended with the intents of the best-matching vetted entries.

    DIET is sure of itself even when wrong; when the knowledge base holds a close match of
    another intent, that evidence moves the ranking (weight `retrieval_intent_weight`).
    """
    weight = settings.retrieval_intent_weight
    if weight <= 0 or not hits:
        return nlu
    scores = np.array([h.score for h in hits[:RETRIEVAL_INTENT_DEPTH]])
    shares = np.exp((scores - scores.max()) / settings.retrieval_intent_temperature)
    shares /= shares.sum()
    return blend(nlu.ranking, ((hit.entry.intent, float(share)) for hit, share in zip(hits, shares)), weight)


def rank(
    hits: Sequence[Hit],
    parse: IntentParse,
    settings: SuggestSettings,
    facts: Mapping[str, str],
    holding: Collection[str] = frozenset(),
    nlu: IntentParse | None = None,
) -> list[tuple[float, Hit]]:
    """Blend retrieval with the intent, best first: a strong match can still overrule an unsure intent.

    The holding reply ("I'll check and come back") of a `holding` intent scores at least `holding_score` of
    retrieval: when the buyer asks about a product but no entry answers that detail, an agent sends it. Its intent
    counts with the larger of the blended confidence and Rasa's own (`nlu`): a few weak hits of another intent
    ("有加厚款吗" retrieving coupon entries at 0.4) do not outvote a model sure it is a product question. An entry
    that uses order facts ranks a little lower when `facts` lack one of them (the agent would have to look it
    up before sending) and a little higher when they hold them all (`order_fact_factor`).
    """
    weight = settings.intent_weight
    scored = []
    for hit in hits:
        if CLARIFY_TAG in hit.entry.tags:
            continue
        floor = hit.entry.intent in holding and HOLDING_TAG in hit.entry.tags
        retrieval = max(hit.score, settings.holding_score) if floor else hit.score
        confidence = parse.confidence_of(hit.entry.intent)
        if floor and nlu is not None:  # Rasa alone sure of this intent: weak retrieval of another does not outvote it
            confidence = max(confidence, nlu.confidence_of(hit.entry.intent))
        score = (1 - weight) * retrieval + weight * confidence
        needs = [v for v in variables(hit.entry.answer) if v.startswith(ORDER_PREFIX)]
        if needs:  # the order's own answer above the generic one when its facts are known, below it when not
            factor = settings.order_fact_factor
            score = min(score / factor, 1.0) if all(v in facts for v in needs) else score * factor
        scored.append((score, hit))
    scored.sort(key=lambda pair: -pair[0])
    return scored
