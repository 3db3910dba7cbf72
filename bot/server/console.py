"""The console's request handlers: buyer messages in, suggestions and bursts out, agents' replies and what they
tell about the suggestions, conversations read back, and the live pages."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from bot.auth import Principal
from bot.burst import combine, pending_questions
from bot.context import Conversation
from bot.conversations import ConversationStore, Message, OtherShop
from bot.errors import MessageError
from bot.kb.template import VARIABLE
from bot.order import Order, OrderError, parse_order
from bot.reply_feedback import AgentReply, feedback_rows
from bot.rules import check_reply
from bot.server.access import principal_of, session_key_of
from bot.server.console_params import (
    MAX_ANSWERED,
    conversation_id_of,
    entry_id_of,
    feedback_row,
    is_conversation_id,
    message_id_of,
    optional_conversation_id,
    reply_parts,
    shop_param,
)
from bot.server.http import (
    ApiError,
    json_body,
    message_ids,
    optional_int,
    optional_rank,
    optional_str,
    page_of,
)
from bot.server.hub import Hub
from bot.shop_engines import ShopEngines
from bot.shops import DEFAULT_SHOP, ShopError
from bot.suggest import Engine
from bot.suggestion import Suggestion, check_message
from bot.textcheck import check_text

REMEMBERED_READINGS = 2048  # suggestions for pending messages kept per process


ReadingKey = tuple[str, str, Conversation, int]  # shop, text, the conversation before it, the shop's KB change


class Console:
    """Request handlers bound to every shop's engine, one conversation store and one hub of open pages. A
    conversation is answered from its own shop's KB and profile (bot.shops)."""

    def __init__(self, engines: ShopEngines, store: ConversationStore) -> None:
        self.engines = engines
        self.settings = engines.settings
        self.store = store
        self.hub = Hub()
        self._readings: OrderedDict[ReadingKey, Suggestion] = OrderedDict()
        self._readings_lock = threading.Lock()

    def _engine(self, shop: str, who: Principal) -> Engine:
        """The shop's engine, for a caller who serves the shop (else 403; a shop that does not exist: 422); off the loop."""
        _must_serve(who, shop)
        try:
            return self.engines.get(shop)
        except ShopError as exc:
            raise ApiError(422, str(exc)) from exc

    def _engine_of(self, conversation_id: str, who: Principal, named: str | None = None) -> Engine:
        """The engine of the conversation's shop: the one it belongs to, else the one named (a new conversation),
        else the default shop; naming another shop than its own is a 409."""
        held_by = self.store.shop_of(conversation_id)
        if held_by is not None and named is not None and named != held_by:
            _must_serve(who, held_by)
            raise ApiError(409, f"conversation '{conversation_id}' belongs to shop '{held_by}', not '{named}'")
        return self._engine(held_by or named or DEFAULT_SHOP, who)

    def _remembered(self, engine: Engine, text: str, before: Conversation) -> Suggestion:
        """The engine's suggestion for a buyer message in the conversation before it, remembered while neither that
        conversation nor the shop's KB (`seq`) changes: a burst's earlier messages are read again on every new message."""
        key = (engine.shop, text, before, engine.seq)
        with self._readings_lock:
            known = self._readings.get(key)
            if known is not None:
                self._readings.move_to_end(key)
                return known
        suggestion = engine.suggest(text, context=before)
        self._remember(key, suggestion)
        return suggestion

    def _remember(self, key: ReadingKey, suggestion: Suggestion) -> None:
        with self._readings_lock:
            self._readings[key] = suggestion
            if len(self._readings) > REMEMBERED_READINGS:
                self._readings.popitem(last=False)

    def _suggest(self, text: str, conversation_id: str | None, shop: str | None, who: Principal) -> dict[str, Any]:
        engine = self._engine_of(conversation_id, who, shop) if conversation_id else self._engine(shop or DEFAULT_SHOP, who)
        conversation = self.store.conversation(conversation_id).latest() if conversation_id else None
        try:
            return engine.suggest(text, context=conversation).to_dict()
        except MessageError as exc:
            raise ApiError(422, str(exc)) from exc

    def _burst(self, engine: Engine, conversation: Conversation) -> dict[str, Any]:
        """The pending questions, each with its suggestions, and the combined reply (`pending` and `combined`)."""
        pending = pending_questions(conversation, lambda turn, before: self._remembered(engine, turn.text, before))
        combined = combine(pending)
        return {"pending": [p.to_dict() for p in pending], "combined": combined.to_dict() if combined else None}

    def _receive(self, conversation_id: str, text: str, order: Order | None, shop: str | None, who: Principal) -> tuple[str, Message, dict[str, Any], dict[str, Any]]:
        """Store a buyer message (and its order's facts), suggest for it in its conversation with its shop's KB, log
        what was shown, and read the burst it belongs to; off the loop."""
        engine = self._engine_of(conversation_id, who, shop)  # before storing: a shop that does not exist stores nothing
        try:
            message = self.store.add_message(conversation_id, "customer", text, order, shop=engine.shop)
        except OtherShop as exc:  # another process gave the conversation its shop meanwhile
            raise ApiError(409, str(exc)) from exc
        conversation = self.store.conversation(conversation_id)
        before = conversation.before(message.id)
        started = time.perf_counter()
        suggestion = engine.suggest(text, context=before)  # as written: the stored text has personal data masked
        latency_ms = round((time.perf_counter() - started) * 1000, 2)
        turn = conversation.buyer_message(message.id)
        if turn is not None:  # the burst reads the stored text: let it find this reading
            self._remember((engine.shop, turn.text, before, engine.seq), suggestion)
        shown = [
            {"conversation_id": conversation_id, "message_id": message.id, "intent": suggestion.intent.name,
             "event": "shown", "entry_id": r.id, "rank": rank, "score": r.score}
            for rank, r in enumerate(suggestion.suggestions, 1)
        ]
        if suggestion.abstained:  # kept for the editors' "learning from traffic" page
            shown.append({"conversation_id": conversation_id, "message_id": message.id, "intent": suggestion.intent.name, "event": "abstained"})
        if shown:  # the suggest time once per message, for the dashboard's latency figure
            shown[0]["latency_ms"] = latency_ms
        self.store.add_feedback(shown)
        return engine.shop, message, suggestion.to_dict(), self._burst(engine, conversation)

    async def customer_message(self, request: Request) -> Response:
        conversation_id = conversation_id_of(request)
        data = await json_body(request)
        try:
            text = check_message(data.get("text"), self.settings.limits.max_message_chars)
            order = parse_order(data["order"]) if data.get("order") is not None else None
        except (MessageError, OrderError) as exc:
            raise ApiError(422, str(exc)) from exc
        shop = shop_param(data.get("shop"))
        shop, message, suggestion, burst = await run_in_threadpool(self._receive, conversation_id, text, order, shop, _caller(request))
        # the live console and the caller see the message as sent; the database keeps it with personal data masked
        payload = {"conversation_id": conversation_id, "shop": shop, "message": {**message.to_dict(), "text": text}, "suggestion": suggestion, **burst}
        if order is not None:
            payload["order"] = order.to_dict()
        await self.hub.to_agents({"type": "customer_message", **payload})
        return JSONResponse(payload, status_code=201)

    async def agent_reply(self, request: Request) -> Response:
        conversation_id = conversation_id_of(request)
        data = await json_body(request)
        limit = self.settings.limits.max_reply_chars
        try:
            text = check_text(data.get("text"), "reply", limit)
        except MessageError as exc:
            raise ApiError(422, str(exc)) from exc
        leftover = VARIABLE.findall(text)
        if leftover:
            raise ApiError(422, f"reply still has unfilled variable(s): {', '.join('{' + v + '}' for v in leftover)}")
        suggested_text = optional_str(data, "suggested_text")
        if suggested_text is not None and len(suggested_text) > limit:  # the edit distance compares at most this much
            raise ApiError(422, f"'suggested_text' is {len(suggested_text)} characters; the limit is {limit}")
        who = _caller(request)
        reply = AgentReply(
            text.strip(), optional_int(data, "message_id"), entry_id_of(data), optional_rank(data),
            suggested_text, message_ids(data, "answers", MAX_ANSWERED), reply_parts(data), who.name,
        )
        shop, message, stored, burst = await run_in_threadpool(self._record_reply, conversation_id, reply, who)
        payload = {"conversation_id": conversation_id, "shop": shop, "message": {**message.to_dict(), "text": reply.text}}  # the buyer gets the reply as written
        await self.hub.to_customer(conversation_id, {"type": "agent_message", **payload})
        await self.hub.to_agents({"type": "agent_message", **payload, **burst})
        return JSONResponse({**payload, "feedback": stored, **burst}, status_code=201)

    def _served_shop(self, conversation_id: str, who: Principal) -> str | None:
        """The conversation's shop (None: no such conversation yet); 403 unless the caller serves it."""
        shop = self.store.shop_of(conversation_id)
        if shop is not None:
            _must_serve(who, shop)
        return shop

    def _check_message_of(self, conversation_id: str, message_id: int | None, who: Principal) -> str:
        """The conversation's shop: 404 unless the conversation exists and holds this message (when one is named);
        403 unless the caller serves its shop."""
        shop = self._served_shop(conversation_id, who)
        if shop is None:
            raise ApiError(404, f"no conversation '{conversation_id}'")
        if message_id is not None and not self.store.has_message(conversation_id, message_id):
            raise ApiError(404, f"no message {message_id} in conversation '{conversation_id}'")
        return shop

    def _record_reply(self, conversation_id: str, reply: AgentReply, who: Principal) -> tuple[str, Message, int, dict[str, Any]]:
        """Store the agent's reply and, for each buyer message it answers, its feedback (picked, edited with its
        edit distance, ignored, sent); then read what is still pending. Off the loop.

        The reply answers the messages it names (`answers`, or the parts of a combined reply), else the one it
        replies to (`message_id`), else every message still waiting."""
        shop = self._check_message_of(conversation_id, reply.message_id, who)
        before = self.store.conversation(conversation_id)
        answers = reply.answered(t.message_id for t in before.buyer_turns if not t.answered and t.message_id is not None)
        arrived = self.store.buyer_messages(conversation_id, {*reply.named, *answers})  # when each arrived: the buyer's wait
        missing = sorted(reply.named - set(arrived))
        if missing:
            raise ApiError(404, f"no buyer message {missing[0]} in conversation '{conversation_id}'")
        read = self.store.feedback(conversation_id, message_ids=answers) if answers else []
        message, stored = self.store.add_reply(
            conversation_id, reply.text, lambda message: feedback_rows(conversation_id, reply, answers, read, arrived, message.created_at)
        )
        return shop, message, stored, self._burst(self._engine(shop, who), self.store.conversation(conversation_id))

    async def pending(self, request: Request) -> Response:
        """The buyer's unanswered questions with their suggestions, and the combined reply."""
        conversation_id = conversation_id_of(request)

        who = _caller(request)

        def read() -> dict[str, Any]:
            engine = self._engine(self._check_message_of(conversation_id, None, who), who)
            return {"conversation_id": conversation_id, **self._burst(engine, self.store.conversation(conversation_id))}

        return JSONResponse(await run_in_threadpool(read))

    async def message_suggestion(self, request: Request) -> Response:
        """The suggestion for one earlier buyer message, read in the conversation before it."""
        conversation_id = conversation_id_of(request)
        message_id = message_id_of(request.path_params["message_id"], "message id must be a number")
        who = _caller(request)

        def read() -> dict[str, Any]:
            engine = self._engine(self._check_message_of(conversation_id, None, who), who)
            conversation = self.store.conversation_around(conversation_id, message_id)
            turn = conversation.buyer_message(message_id)
            if turn is None:
                raise ApiError(404, f"no buyer message {message_id} in conversation '{conversation_id}'")
            suggestion = self._remembered(engine, turn.text, conversation.before(message_id))
            return {"conversation_id": conversation_id, "message_id": message_id, **suggestion.to_dict()}

        return JSONResponse(await run_in_threadpool(read))

    async def feedback(self, request: Request) -> Response:
        row = feedback_row(await json_body(request), self.settings.limits.max_reply_chars)
        stored = await run_in_threadpool(self._store_feedback, row, _caller(request))
        return JSONResponse({"stored": stored}, status_code=201)

    def _store_feedback(self, row: dict[str, Any], who: Principal) -> int:
        self._check_message_of(row["conversation_id"], row["message_id"], who)
        return self.store.add_feedback([row])

    async def suggest(self, request: Request) -> Response:
        query = request.query_params.get("q")
        if query is None:
            raise ApiError(400, "query parameter 'q' is required")
        conversation_id = optional_conversation_id(request.query_params.get("conversation_id"))
        return JSONResponse(await run_in_threadpool(self._suggest, query, conversation_id, shop_param(request.query_params.get("shop")), _caller(request)))

    def _engine_asked(self, conversation_id: object, shop: object, who: Principal) -> Engine:
        """The engine a console helper works with: the conversation's shop's, else the shop named, else the default."""
        named = optional_conversation_id(conversation_id)
        if named is not None:
            return self._engine_of(named, who, shop_param(shop))
        return self._engine(shop_param(shop) or DEFAULT_SHOP, who)

    async def kb_search(self, request: Request) -> Response:
        """The shop's live entries that match the text (the conversation's shop, or `shop`), filled with its facts."""
        query = (request.query_params.get("q") or "").strip()
        if not query:
            return JSONResponse({"results": []})
        if len(query) > 200:
            raise ApiError(422, "search text is longer than 200 characters")

        who = _caller(request)

        def search() -> list[dict[str, Any]]:
            conversation_id = request.query_params.get("conversation_id")
            engine = self._engine_asked(conversation_id, request.query_params.get("shop"), who)
            conversation = self.store.conversation(conversation_id).latest() if conversation_id else None  # its order's facts
            return [
                {"id": r.id, "intent": r.intent, "text": r.text, "matched_question": r.matched_question, "score": r.score}
                for r in engine.search_kb(query, 8, context=conversation)
            ]

        return JSONResponse({"results": await run_in_threadpool(search)})

    async def check(self, request: Request) -> Response:
        """The service rules' warnings on a reply, against what the conversation's shop's approved answers promise."""
        data = await json_body(request)
        text = optional_str(data, "text") or ""
        if len(text) > self.settings.limits.max_reply_chars:
            raise ApiError(422, f"text is {len(text)} characters; the limit is {self.settings.limits.max_reply_chars}")

        who = _caller(request)

        def promised() -> frozenset[str] | None:
            return self._engine_asked(data.get("conversation_id"), data.get("shop"), who).promised

        found = await run_in_threadpool(lambda: check_reply(text, promised())) if text.strip() else []
        warnings = [{"rule": w.rule, "message": w.message} for w in found]
        leftover = VARIABLE.findall(text)
        return JSONResponse({"warnings": warnings, "leftover_variables": leftover, "can_send": bool(text.strip()) and not leftover})

    async def conversations(self, request: Request) -> Response:
        page = page_of(request)

        shops = _caller(request).visible_shops()  # an agent lists only the conversations of the shops it serves

        def read() -> tuple[list[dict[str, Any]], int]:
            return self.store.conversations(page.limit, page.offset, shops), self.store.count_conversations(shops)

        found, total = await run_in_threadpool(read)
        return JSONResponse({"conversations": found, **page.of(found, total)})

    async def messages(self, request: Request) -> Response:
        """The last `limit` messages (default 200), oldest first; `before=ID` pages back, `next_before` says where."""
        conversation_id = conversation_id_of(request)
        limit = page_of(request, default=200).limit
        raw_before = request.query_params.get("before")
        before = message_id_of(raw_before, "'before' must be a message id") if raw_before is not None else None
        who = _caller(request)

        def read() -> list[Message]:
            self._served_shop(conversation_id, who)  # no such conversation yet: no messages (a customer page opens first)
            return self.store.messages(conversation_id, limit + 1, before)

        messages = await run_in_threadpool(read)
        older = len(messages) > limit
        messages = messages[-limit:]
        return JSONResponse({"conversation_id": conversation_id, "messages": [m.to_dict() for m in messages],
                             "limit": limit, "next_before": messages[0].id if older else None})

    async def health(self, request: Request) -> Response:
        first = self.engines.first
        return JSONResponse({"ok": True, "entries": first.live_size, "nlu_ready": first.nlu_ready.is_set(), "shops_loaded": len(self.engines.loaded())})

    async def agent_socket(self, websocket: WebSocket) -> None:
        await self._hold(websocket, None, _caller(websocket).visible_shops())

    async def customer_socket(self, websocket: WebSocket) -> None:
        conversation_id = websocket.path_params["conversation_id"]
        if not is_conversation_id(conversation_id):
            await websocket.close(code=1008)
            return
        who = _caller(websocket)
        shop = await run_in_threadpool(self.store.shop_of, conversation_id)
        if shop is not None and not who.serves(shop):
            await websocket.close(code=1008)
            return
        await self._hold(websocket, conversation_id, who.visible_shops())  # a conversation made later in another shop stays unseen

    async def _hold(self, websocket: WebSocket, conversation_id: str | None, shops: frozenset[str] | None) -> None:
        """Keep a page's socket in the hub until the page goes away or its session ends; pages only listen."""
        await websocket.accept()
        self.hub.join(websocket, session_key_of(websocket), conversation_id, shops)
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            self.hub.leave(websocket)


def _caller(connection: Any) -> Principal:
    """Who calls (every console route is guarded: there is one)."""
    principal = principal_of(connection)
    assert principal is not None, "console routes are guarded"
    return principal


def _must_serve(who: Principal, shop: str) -> None:
    if not who.serves(shop):
        raise ApiError(403, f"{who.name} does not serve shop '{shop}'")
