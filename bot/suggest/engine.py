"""The suggestion pipeline: message (+ context) -> intent (Rasa NLU + dialogue) -> retrieval (faiss + BM25) -> ranking -> filled replies."""

from __future__ import annotations

import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Collection, Mapping, Sequence

from bot import ranking
from bot.clauses import ACK, FINAL, GREET, THANKS, MessageReading, read_message
from bot.context import (
    BuyerTurn,
    ContextLike,
    Conversation,
    awaits_buyer,
    conversation_of,
    is_bare_follow_up,
)
from bot.dialogue import CONTEXTUAL_INTENTS, FOLLOW_UP, DialoguePredictor, Exchange, NextReply
from bot.encoder import Encoder, encoder_for
from bot.index.search import Hit, KBIndex
from bot.index.vectors import VectorSource
from bot.intents import OUT_OF_SCOPE
from bot.kb import Entry
from bot.kb.store import KBStore
from bot.nlu import IntentClassifier, IntentParse, IntentScore, latest_model, load_classifier
from bot.order import order_facts
from bot.segment import content_chars, has_chinese, load_user_dicts
from bot.settings import Settings
from bot.shops import DEFAULT_SHOP, must_exist
from bot.suggest.live_kb import LiveKB
from bot.suggestion import ContextReading, Reply, Suggestion, check_message

CLOSING_INTENT = "thanks_goodbye"
AFFIRM = "affirm"
CONTEXTUAL_MIN_CONFIDENCE = 0.5  # NLU must be this sure that a message is a bare "好的" / "这个呢"
STRONG_MATCH = 0.85  # a retrieval score this high means the message says what a vetted question says


class SharedNlu:
    """The Rasa model and its dialogue policies: loaded once per process, shared by every shop's engine."""

    def __init__(self, classifier: IntentClassifier | None, dialogue: DialoguePredictor | None) -> None:
        self.classifier = classifier  # None while the Rasa model loads (`nlu_in_background`)
        self.dialogue = dialogue  # None: the model has no stories; context then only finds a follow-up's topic
        self.ready = threading.Event()
        if classifier is not None:
            self.ready.set()
        self._engines: "weakref.WeakSet[Engine]" = weakref.WeakSet()  # an evicted shop's engine is not kept alive here
        # Parses run beside retrieval (TensorFlow and onnxruntime release the GIL: two cores, two jobs at once).
        self.parser = ThreadPoolExecutor(max_workers=2, thread_name_prefix="rasa-parse")

    def serves(self, engine: "Engine") -> None:
        self._engines.add(engine)

    def arrived(self, classifier: IntentClassifier) -> None:
        self.dialogue = DialoguePredictor.from_agent(classifier.agent)
        self.classifier = classifier
        for engine in list(self._engines):
            engine.forget_readings()  # what earlier messages meant was read without the model
        self.ready.set()


class Engine(LiveKB):
    """Loads the Rasa model once; `suggest` is the one code path for CLI, HTTP and Rasa.

    The KB and index it answers from, loaded and kept live as editors approve changes, are `LiveKB`'s.
    """

    def __init__(
        self,
        settings: Settings,
        classifier: IntentClassifier | None,
        store: KBStore,
        encoder: Encoder,
        dialogue: DialoguePredictor | None = None,
        nlu: SharedNlu | None = None,
        vectors: VectorSource | None = None,
    ) -> None:
        super().__init__(settings, store, encoder)
        self.nlu = nlu or SharedNlu(classifier, dialogue)
        self.nlu.serves(self)
        self.refresh(vectors=vectors)

    @classmethod
    def from_settings(cls, settings: Settings, model_path: Path | None = None, nlu_in_background: bool = False, shop: str = DEFAULT_SHOP) -> "Engine":
        """Load everything. With `nlu_in_background`, return as soon as the index can be searched: the Rasa
        model (most of a start: Rasa rebuilds each TensorFlow model by fitting one example) loads in a
        thread, and until it is there suggestions rank by retrieval alone (`nlu_ready` says which)."""
        load_user_dicts(settings.project_dir / "data" / "dict")
        store = KBStore(settings.db_url, shop)
        if shop != DEFAULT_SHOP:
            must_exist(store.db, shop)
        model = model_path or latest_model(settings.models_dir)
        if nlu_in_background:
            engine = cls(settings, None, store, encoder_for(settings))
            threading.Thread(target=engine._load_nlu, args=(model,), name="rasa-model-load", daemon=True).start()
            return engine
        with ThreadPoolExecutor(1) as pool:  # the encoder loads while Rasa rebuilds its models
            encoder = pool.submit(encoder_for, settings)
            classifier = load_classifier(model)
            return cls(settings, classifier, store, encoder.result(), DialoguePredictor.from_agent(classifier.agent))

    def _load_nlu(self, model: Path) -> None:
        self.nlu.arrived(load_classifier(model))

    def for_shop(self, shop: str, vectors: VectorSource | None = None) -> "Engine":
        """An engine for another shop's KB in this process: the same Rasa model and encoder, its own index (built
        re-using the vectors `vectors` has, else this engine's)."""
        return Engine(self.settings, None, self.store.for_shop(shop), self.encoder, nlu=self.nlu, vectors=vectors or self.index)

    @property
    def classifier(self) -> IntentClassifier | None:
        return self.nlu.classifier

    @property
    def dialogue(self) -> DialoguePredictor | None:
        return self.nlu.dialogue

    @property
    def nlu_ready(self) -> threading.Event:
        return self.nlu.ready

    def _parse(self, text: str) -> IntentParse:
        """The Rasa model's reading; while it loads, none (retrieval alone then decides the intent)."""
        classifier = self.classifier
        if classifier is None:
            unknown = IntentScore(OUT_OF_SCOPE, 0.0)
            return IntentParse(intent=unknown, ranking=(unknown,))
        return classifier.parse(text)

    # -- the pipeline ----------------------------------------------------------------------

    def suggest(self, message: str, context: ContextLike = None, k: int | None = None) -> Suggestion:
        """Suggest replies for the buyer's message, read in the context of the conversation so far (a
        `bot.context.Conversation`, or turns it is built from), filled with the shop's and the order's facts."""
        k = self.settings.suggest.k if k is None else k
        generation = self._own_intents.generation  # readings made now are of this KB and model
        reading = read_message(check_message(message, self.settings.limits.max_message_chars))
        if content_chars(reading.text) == 0:
            return self._abstain(IntentScore(OUT_OF_SCOPE, 0.0), (), "no words to match (only emoji or punctuation)")
        assert self.index is not None
        index = self.index  # one index for the whole call, even if an edit swaps in a new one meanwhile
        conversation = conversation_of(context)
        past = conversation.buyer_turns
        facts = self.facts(conversation)
        text = reading.query
        if reading.only_social and GREET not in reading.social:
            return self._acknowledge(reading, self._parse(text), past, index, k, facts, generation)
        known = index.known_share(text)
        if known is not None and known < self.settings.suggest.min_known_share:
            return self._abstain(IntentScore(OUT_OF_SCOPE, 0.0), (), f"mostly characters the knowledge base never uses ({known:.2f} known)")
        depth = max(10, 4 * k)
        parsing = self.nlu.parser.submit(self._parse, text)  # the Rasa parse runs while retrieval searches
        earlier = self._earlier_words(past) if self.settings.suggest.context_retrieval else None
        hits = self._retrieve(reading, None, index, depth, earlier)
        nlu = parsing.result()
        if nlu.intent.name == OUT_OF_SCOPE and not has_chinese(text) and self.classifier is not None:
            # The encoder is a Chinese model: for Latin-only noise ("epfJBd0Kh8oO") its nearest rows mean nothing.
            return self._abstain(nlu.intent, nlu.ranking, "no Chinese words, and the intent model reads it as out of scope")
        history = self._history(past, index, generation) if past else []
        follow_up = bool(past) and self._is_follow_up(text, nlu)
        topic = self._topic(past, history) if follow_up else None
        if topic:
            hits = self._retrieve(reading, topic, index, depth)
        own = self._intent(nlu, hits)
        message_intent = FOLLOW_UP if follow_up else self._message_intent(nlu, own, hits)
        if not past and self._follows_nothing(text, hits, message_intent):
            return self._abstain(nlu.intent, nlu.ranking, "a follow-up (\"这个呢\") with no earlier message to follow")
        if not follow_up and earlier is None:  # a reading helped by the earlier message is not this message's own
            self._own_intents.put(text, message_intent, generation)
        next_reply = self.dialogue.predict(tuple(history), message_intent) if self.dialogue and history else None
        parse = self._in_context(own, nlu, message_intent, next_reply)
        retrieve_text = f"{topic} {text}" if topic else text
        if next_reply is not None and next_reply.top is not None:
            hits = self._with_intent(hits, index, retrieve_text, next_reply.top.name, k)
        # The holding reply is for a buyer who asks about its intent (by the blended reading or by Rasa's own) in
        # words, not Latin noise such as "6GncfB".
        holding = {parse.intent.name, nlu.intent.name} if has_chinese(text) else set()
        hits = self._with_holding(hits, parse.intent.name if holding else None)
        replies = self._rank(hits, parse, k, holding, facts, nlu)
        reading_context = None
        if past:
            top = next_reply.top if next_reply else None
            reading_context = ContextReading(message_intent, top, next_reply.policy if next_reply else None, topic)
        if not replies or replies[0].score < self.settings.suggest.min_score:
            best = f"{replies[0].score:.2f}" if replies else "none"
            return self._abstain(
                parse.intent,
                parse.ranking,
                f"no confident match (best score {best} < {self.settings.suggest.min_score})",
                reading_context,
            )
        return Suggestion(parse.intent, parse.ranking, tuple(replies[:k]), abstained=False, context=reading_context)

    def _retrieve(self, reading: MessageReading, topic: str | None, index: KBIndex, depth: int, earlier: str | None = None) -> list[Hit]:
        """The best entries for the message; for several clauses, each entry scored by its best clause too,
        so the question in "快递收到了 少了一件" is not drowned by the statement before it."""
        if topic:
            return index.search(f"{topic} {reading.query}", depth)
        clauses = reading.content if self.settings.suggest.clause_retrieval and len(reading.content) > 1 else ()
        texts = [reading.query, *clauses] + ([f"{earlier} {reading.query}"] if earlier else [])
        vectors = self.encoder.embed_many(texts)
        best: dict[str, Hit] = {}
        for text, vector in zip(texts, vectors):
            for hit in index.search(text, depth, query_vector=vector):
                if hit.entry.id not in best or hit.score > best[hit.entry.id].score:
                    best[hit.entry.id] = hit
        return sorted(best.values(), key=lambda h: -h.score)[:depth]

    def _acknowledge(
        self,
        reading: MessageReading,
        nlu: IntentParse,
        past: Sequence[BuyerTurn],
        index: KBIndex,
        k: int,
        facts: Mapping[str, str],
        generation: int,
    ) -> Suggestion:
        """A message of thanks, goodbye or acknowledgement only: the closing script, or nothing to answer.

        Thanks and "明白了"-style words close a conversation; a plain "好的" closes it on its own or after a
        reply that answered, but not after one that waits on the buyer (send the order number, we will check
        and come back): then the buyer is only saying they will. "对"/"可以" answer the agent's question.
        """
        reading_context = ContextReading(AFFIRM, None, None, None) if past else None
        answered = bool(past) and self._answered(past, index, generation)
        if reading.social & {THANKS, FINAL} or (ACK in reading.social and (not past or answered)):
            # Thanks close a conversation; "明白了" / "好的" alone acknowledge, and after an answer they close it.
            intent = CLOSING_INTENT if THANKS in reading.social or past else AFFIRM
            parse = ranking.leading(nlu, intent)
            weight = self.settings.suggest.intent_weight
            hits = index.search_intent(reading.text, CLOSING_INTENT, k)
            closing = tuple(self._reply(h.entry, (1 - weight) * h.score + weight, h.matched, facts) for h in hits)
            if closing:
                return Suggestion(parse.intent, parse.ranking, closing, abstained=False, context=reading_context)
        parse = ranking.leading(nlu, AFFIRM)
        why = "an acknowledgement of a reply that waits on the buyer" if ACK in reading.social else "an agreement: nothing to answer"
        return self._abstain(parse.intent, parse.ranking, why, reading_context)

    def _answered(self, past: Sequence[BuyerTurn], index: KBIndex, generation: int) -> bool:
        """Whether the agent's last reply answered (rather than asked the buyer for something or promised to check).

        The entry the agent sent decides when the caller names it; otherwise the reply the dialogue model predicts
        there (or the intent the caller names), by whether most of that intent's answers wait on the buyer.
        """
        last = past[-1]
        sent = index.entry(last.reply_entry) if last.reply_entry else None
        if sent is not None:
            return not awaits_buyer(sent.answer)
        reply = self._history(past, index, generation)[-1].reply_intent
        return reply is not None and reply not in self._awaiting_intents

    # -- context ---------------------------------------------------------------------------

    def _is_follow_up(self, text: str, nlu: IntentParse) -> bool:
        """A message with no topic of its own ("这个呢", "那这款呢"), by the NLU model or by its words."""
        return (nlu.intent.name == FOLLOW_UP and nlu.intent.confidence >= CONTEXTUAL_MIN_CONFIDENCE) or is_bare_follow_up(text)

    @staticmethod
    def _follows_nothing(text: str, hits: Sequence[Hit], message_intent: str) -> bool:
        """A conversation's first message that only points back ("这个呢", "还有一个", "那大一码的呢"): it has no topic
        of its own and nothing earlier gives it one, so the agent asks what is meant (the clarifying script) rather
        than being offered a guess. A message that says what a vetted question says is never one."""
        if hits and hits[0].score >= STRONG_MATCH:
            return False
        return message_intent == FOLLOW_UP or is_bare_follow_up(text)

    def _message_intent(self, nlu: IntentParse, own: IntentParse, hits: Sequence[Hit] = ()) -> str:
        """The message on its own: a contextual intent if NLU is sure of one (and no vetted question says the same
        thing: "天气怎么样" reads like "这个怎么样" to DIET), else the blended topic."""
        strong = bool(hits) and hits[0].score >= STRONG_MATCH
        if nlu.intent.name in CONTEXTUAL_INTENTS and nlu.intent.confidence >= CONTEXTUAL_MIN_CONFIDENCE and not strong:
            return nlu.intent.name
        return own.intent.name

    def _own_intent(self, text: str, index: KBIndex, generation: int) -> str:
        """What an earlier message asked, on its own (remembered: every later message re-reads it). `generation` is the
        memo's when the suggestion began: read against that suggestion's index, a reading is not kept past a KB edit."""
        text = read_message(text).query
        known = self._own_intents.get(text)
        if known is not None:
            return known
        nlu = self._parse(text)
        if self._is_follow_up(text, nlu):
            intent = FOLLOW_UP
        else:
            hits = index.search(text, ranking.RETRIEVAL_INTENT_DEPTH)
            intent = self._message_intent(nlu, self._intent(nlu, hits), hits)
        self._own_intents.put(text, intent, generation)
        return intent

    def _history(self, past: Sequence[BuyerTurn], index: KBIndex, generation: int) -> list[Exchange]:
        """The earlier turns as the dialogue model sees them: each message's intent and the reply's intent.

        A reply the caller names (an intent, or the KB entry the agent sent) is taken as given. Any other
        message gets the reply the dialogue model predicts at that point, also when the agent has not
        answered yet (a buyer often sends several messages before the agent answers them together).
        """
        history: list[Exchange] = []
        for turn in past:
            intent = turn.intent or self._own_intent(turn.text, index, generation)
            sent = index.entry(turn.reply_entry) if turn.reply_entry else None
            reply = turn.reply_intent or (sent.intent if sent else None) or self._likely_reply(history, intent)
            history.append(Exchange(intent, reply))
        return history

    def _likely_reply(self, history: list[Exchange], intent: str) -> str | None:
        if self.dialogue is not None:
            top = self.dialogue.predict(tuple(history), intent).top
            return top.name if top else None
        if intent not in CONTEXTUAL_INTENTS:
            return intent
        return history[-1].reply_intent if history else None

    @staticmethod
    def _topic(past: Sequence[BuyerTurn], history: Sequence[Exchange]) -> str | None:
        """The latest earlier message with a topic of its own: what a follow-up asks about again."""
        for turn, exchange in zip(reversed(past), reversed(history)):
            if exchange.message_intent not in CONTEXTUAL_INTENTS:
                return turn.text
        return None

    @staticmethod
    def _earlier_words(past: Sequence[BuyerTurn]) -> str | None:
        """The previous buyer message as the search reads it (its query), which the search also reads this one with,
        unless it is only thanks or an OK: "好" lends no words ("好" then "短袖呢" searched as "好 短袖呢" offered greetings)."""
        if not past:
            return None
        reading = read_message(past[-1].text)
        return None if reading.only_social else reading.query

    def _in_context(self, own: IntentParse, nlu: IntentParse, message_intent: str, next_reply: NextReply | None) -> IntentParse:
        """The intent to answer: for "好的"/"这个呢" the dialogue model's next reply; otherwise a blend of both readings."""
        if next_reply is None or not next_reply.intents:
            return nlu if message_intent in CONTEXTUAL_INTENTS and message_intent == nlu.intent.name else own
        if message_intent in CONTEXTUAL_INTENTS:
            return IntentParse(intent=next_reply.intents[0], ranking=next_reply.intents)
        return ranking.blend(own.ranking, ((s.name, s.confidence) for s in next_reply.intents), self.settings.suggest.context_weight)

    @staticmethod
    def _with_intent(hits: list[Hit], index: KBIndex, text: str, intent: str, k: int) -> list[Hit]:
        """Add the best entries of the predicted reply's intent, which the message's words may not retrieve."""
        seen = {h.entry.id for h in hits}
        return hits + [h for h in index.search_intent(text, intent, k) if h.entry.id not in seen]

    # -- ranking ---------------------------------------------------------------------------

    def _intent(self, nlu: IntentParse, hits: list[Hit]) -> IntentParse:
        return ranking.with_retrieval(nlu, hits, self.settings.suggest)

    def _rank(
        self,
        hits: list[Hit],
        parse: IntentParse,
        k: int,
        holding: Collection[str] = frozenset(),
        facts: Mapping[str, str] | None = None,
        nlu: IntentParse | None = None,
    ) -> list[Reply]:
        """The k best replies, filled (`bot.ranking.rank` orders them)."""
        facts = self.kb.shop if facts is None else facts
        ranked = ranking.rank(hits, parse, self.settings.suggest, facts, holding, nlu)
        return [self._reply(hit.entry, score, hit.matched, facts) for score, hit in ranked[:k]]

    def _with_holding(self, hits: list[Hit], intent: str | None) -> list[Hit]:
        """Add the intent's holding reply when retrieval did not bring it (its floor decides where it ranks)."""
        holding = self._holding.get(intent) if intent else None
        if holding is None or any(h.entry.id == holding.id for h in hits):
            return hits
        return hits + [Hit(holding, 0.0, 0.0, 0.0, "", "question")]

    def search_kb(self, query: str, k: int = 8, context: ContextLike = None) -> list[Reply]:
        """The live entries that best match a text (the agent's own search of the KB), filled with the shop's facts and,
        in a conversation, its order's."""
        index = self.index
        facts = self.facts(conversation_of(context))
        return [self._reply(h.entry, h.score, h.matched, facts) for h in index.search(query, k)] if index is not None else []

    def facts(self, conversation: Conversation | None = None) -> dict[str, str]:
        """What fills an answer's variables: the shop's profile and, in a conversation, its order's facts."""
        order = conversation.order if conversation is not None else None
        return {**self.kb.shop, **order_facts(order, self.kb.shop)} if order is not None else self.kb.shop

    def _reply(self, entry: Entry, score: float, matched: str, facts: Mapping[str, str] | None = None) -> Reply:
        """The entry's answer filled with the shop's facts (and the order's, where known)."""
        return Reply.of(entry, score, matched, self.kb.shop if facts is None else facts)

    def _abstain(
        self, intent: IntentScore, ranking: tuple[IntentScore, ...], reason: str, context: ContextReading | None = None
    ) -> Suggestion:
        """No confident reply: say why, and offer the clarifying script if the KB has one."""
        clarify = tuple(self._reply(e, 0.0, matched="") for e in self._clarify)
        return Suggestion(intent, ranking, clarify, abstained=True, reason=reason, context=context)
