// Agent console: conversations, chat, pending questions, suggestions. Customer text is only ever set with textContent.
"use strict";

const state = {
  // id -> {id, messages, unread, loaded, pending: [], combined, order, suggestions: Map(message id -> suggestion),
  //        selectedMessage, manual (the agent chose that message), also: Set (pending messages ticked as answered too)}
  conversations: new Map(),
  selected: null,
  picked: null, // what the reply box started from: {entry_id, rank, suggested_text} or {combined: parts, suggested_text}
  canSend: false,
};

const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
};
const api = (path) => `/api/conversations/${encodeURIComponent(state.selected)}${path}`;

function conversation(id) {
  if (!state.conversations.has(id)) {
    state.conversations.set(id, {
      id, shop: null, messages: [], unread: 0, loaded: false, pending: [], combined: null, order: null,
      suggestions: new Map(), selectedMessage: null, manual: false, also: new Set(),
    });
  }
  return state.conversations.get(id);
}

const current = () => state.selected && state.conversations.get(state.selected);

function setBurst(c, data) {
  // The pending questions and the combined reply, as the server read them after the latest message or reply.
  c.pending = data.pending || [];
  c.combined = data.combined || null;
  if (data.order) c.order = data.order;
  for (const p of c.pending) c.suggestions.set(p.message_id, p);
  const pendingIds = new Set(c.pending.map((p) => p.message_id));
  for (const id of [...c.also]) if (!pendingIds.has(id)) c.also.delete(id);
  if (c.manual && !pendingIds.has(c.selectedMessage)) c.manual = false;
}

function renderConversations() {
  const list = $("conversations");
  list.replaceChildren();
  for (const c of state.conversations.values()) {
    const item = el("li");
    const button = el("button");
    button.dataset.id = c.id;
    button.setAttribute("aria-current", String(c.id === state.selected));
    const label = el("span");
    label.append(el("strong", null, c.id));
    if (c.shop && c.shop !== "default") label.append(el("span", "shop", c.shop));
    const last = c.messages[c.messages.length - 1];
    label.append(el("span", "preview", last ? last.text : ""));
    button.append(label, el("span", "badge", c.unread ? String(c.unread) : ""));
    button.addEventListener("click", () => select(c.id));
    item.append(button);
    list.append(item);
  }
}

function renderChat() {
  const chat = $("chat");
  chat.replaceChildren();
  const c = current();
  $("chat-title").textContent = c ? `与 ${c.id} 的对话` + (c.shop && c.shop !== "default" ? ` · 店铺 ${c.shop}` : "") : "请选择会话";
  const order = $("order");
  order.replaceChildren();
  if (c && c.order) {
    const o = c.order;
    const facts = [o.id && `订单 ${o.id}`, o.status, o.courier && o.tracking_no ? `${o.courier} ${o.tracking_no}` : o.courier || o.tracking_no,
      o.paid_at && `付款 ${o.paid_at.replace("T", " ").slice(0, 16)}`].filter(Boolean);
    order.textContent = facts.join(" · ");
  }
  if (!c) return;
  const pendingIds = new Set(c.pending.map((p) => p.message_id));
  for (const m of c.messages) {
    const bubble = el("div", `msg ${m.role}`, m.text);
    bubble.dataset.messageId = m.id;
    if (m.role === "customer") {
      bubble.tabIndex = -1;
      bubble.title = "点击查看这条消息的建议 (↑/↓ 切换)";
      if (pendingIds.has(m.id)) bubble.classList.add("pending");
      if (m.id === c.selectedMessage) bubble.classList.add("selected");
      bubble.addEventListener("click", () => selectMessage(m.id, true));
    }
    chat.append(bubble);
  }
  chat.scrollTop = chat.scrollHeight;
}

function renderPending() {
  const c = current();
  const list = $("pending");
  const box = $("combined");
  list.replaceChildren();
  box.replaceChildren();
  $("pending-count").textContent = c && c.pending.length ? String(c.pending.length) : "";
  if (!c) return;
  for (const p of c.pending) {
    const item = el("li");
    item.dataset.messageId = p.message_id;
    if (p.message_id === c.selectedMessage) item.classList.add("selected");
    const button = el("button");
    button.append(el("span", "pending-text", p.text));
    const best = !p.abstained && p.suggestions[0];
    button.append(el("span", "meta", `${p.intent.name} ${Math.round(p.intent.confidence * 100)}%` + (best ? ` · ${best.id}` : " · 没有把握")));
    button.addEventListener("click", () => selectMessage(p.message_id, true));
    const tick = el("input");
    tick.type = "checkbox";
    tick.title = "本次回复也回答了这条";
    tick.checked = c.also.has(p.message_id) || p.message_id === c.selectedMessage;
    tick.disabled = p.message_id === c.selectedMessage;
    tick.addEventListener("change", () => { if (tick.checked) c.also.add(p.message_id); else c.also.delete(p.message_id); });
    item.append(tick, button);
    list.append(item);
  }
  if (c.combined && c.pending.length > 1) {
    const button = el("button");
    button.id = "combined-draft";
    button.append(el("span", "key", "0"), el("span", "combined-text", c.combined.text));
    const texts = new Map(c.pending.map((p) => [p.message_id, p.text]));
    const parts = el("ol", "parts");
    for (const part of c.combined.parts) {
      const li = el("li", null, `${part.entry_id} ← ${part.message_ids.map((id) => `「${texts.get(id) || id}」`).join("")}`);
      li.dataset.messageIds = part.message_ids.join(",");
      parts.append(li);
    }
    button.append(parts);
    button.addEventListener("click", pickCombined);
    box.append(el("h3", null, "合并回复 (0 选用)"), button);
  }
}

function renderSuggestion() {
  const c = current();
  const box = $("intent");
  const list = $("suggestions");
  box.replaceChildren();
  list.replaceChildren();
  const s = c && c.selectedMessage !== null ? c.suggestions.get(c.selectedMessage) : null;
  if (!s) {
    box.append(el("span", "empty", c && c.selectedMessage !== null ? "正在读取建议…" : "等待买家消息"));
    return;
  }
  box.dataset.messageId = c.selectedMessage;
  const message = c.messages.find((m) => m.id === c.selectedMessage);
  if (message) box.append(el("div", "for-message", `「${message.text}」`));
  const name = el("strong", null, s.intent.name);
  name.id = "intent-name";
  box.append(name, el("span", "confidence", `${Math.round(s.intent.confidence * 100)}%`));
  const ctx = s.context;
  if (ctx && ctx.message_intent !== s.intent.name) {
    // The conversation decided the intent: say so, so the agent knows why "好的" got the closing script.
    const why = ctx.topic ? `接上文「${ctx.topic}」` : `接上文 (本句: ${ctx.message_intent})`;
    const context = el("div", "context", why);
    context.id = "intent-context";
    box.append(context);
  }
  if (s.abstained) box.append(el("div", "abstained", `没有把握: ${s.reason}`));
  s.suggestions.slice(0, 3).forEach((reply, i) => {
    const item = el("li");
    const button = el("button");
    button.dataset.entryId = reply.id;
    button.append(el("span", "key", String(i + 1)), document.createTextNode(reply.text));
    button.append(el("span", "meta", `${reply.id} · ${reply.score.toFixed(2)}${reply.matched_question ? " · 匹配: " + reply.matched_question : ""}`));
    const filled = Object.entries(reply.filled || {});
    if (filled.length) button.append(el("span", "filled", "已填: " + filled.map(([k, v]) => `${k}=${v}`).join(" · ")));
    button.addEventListener("click", () => pick(reply, i + 1));
    item.append(button);
    list.append(item);
  });
}

function render() {
  renderConversations();
  renderChat();
  renderPending();
  renderSuggestion();
}

function followLatest(c, newMessage) {
  // Unless the agent chose a message that is still pending: a new buyer message shows its own suggestions; after a
  // reply the panel moves on to the oldest question still pending (nothing, when none is).
  if (c.manual) return;
  if (newMessage !== undefined) { c.selectedMessage = newMessage; return; }
  const pendingIds = c.pending.map((p) => p.message_id);
  if (!pendingIds.includes(c.selectedMessage)) c.selectedMessage = pendingIds.length ? pendingIds[0] : null;
}

async function selectMessage(messageId, manual) {
  const c = current();
  if (!c) return;
  c.selectedMessage = messageId;
  c.manual = Boolean(manual) && c.pending.some((p) => p.message_id === messageId);
  render();
  if (!c.suggestions.has(messageId)) {
    const response = await fetch(api(`/messages/${messageId}/suggestion`));
    if (response.ok) c.suggestions.set(messageId, await response.json());
    if (state.selected === c.id && c.selectedMessage === messageId) render();
  }
}

function stepMessage(delta) {
  const c = current();
  if (!c) return;
  const ids = c.messages.filter((m) => m.role === "customer").map((m) => m.id);
  if (!ids.length) return;
  const at = ids.indexOf(c.selectedMessage);
  const next = at === -1 ? ids[ids.length - 1] : ids[Math.min(ids.length - 1, Math.max(0, at + delta))];
  selectMessage(next, true);
}

async function select(id) {
  state.selected = id;
  const c = conversation(id);
  c.unread = 0;
  if (!c.loaded) {
    const response = await fetch(api("/messages"));
    if (response.ok) {
      const data = await response.json();
      c.messages = data.messages.concat(c.messages.filter((m) => !data.messages.some((d) => d.id === m.id)));
      c.messages.sort((a, b) => a.id - b.id);
      c.loaded = true;
      const pending = await fetch(api("/pending"));  // after a reload: what is still waiting, and its suggestions
      if (pending.ok) setBurst(c, await pending.json());
    }
  }
  state.picked = null;
  if (c.selectedMessage === null) {  // opened: the newest pending question, else the newest buyer message
    const lastCustomer = [...c.messages].reverse().find((m) => m.role === "customer");
    c.selectedMessage = c.pending.length ? c.pending[c.pending.length - 1].message_id : lastCustomer ? lastCustomer.id : null;
  }
  if (c.selectedMessage !== null) await selectMessage(c.selectedMessage, c.manual);
  else render();
}

function putInReplyBox(text, filled) {
  const box = $("reply");
  box.value = text;
  $("filled").textContent = filled.length ? "已填变量: " + filled.map(([k, v]) => `${k}=${v}`).join(" · ") : "";
  box.focus();
  box.setSelectionRange(box.value.length, box.value.length);
  check();
}

function pick(reply, rank) {
  const c = current();
  state.picked = { entry_id: reply.id, rank, suggested_text: reply.text, message_id: c ? c.selectedMessage : null };
  putInReplyBox(reply.text, Object.entries(reply.filled || {}));
}

function pickCombined() {
  const c = current();
  if (!c || !c.combined) return;
  const parts = c.combined.parts.flatMap((p) => p.message_ids.map((id) => ({ message_id: id, entry_id: p.entry_id })));
  state.picked = { combined: parts, suggested_text: c.combined.text };
  putInReplyBox(c.combined.text, []);
}

let checkTimer = null;
function check() {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(async () => {
    const text = $("reply").value;
    const body = { text, ...(state.selected ? { conversation_id: state.selected } : {}) };  // the rules read against its shop's answers
    const response = await fetch("/api/check", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    if (!response.ok) return;
    const result = await response.json();
    if ($("reply").value !== text) return; // stale
    const list = $("warnings");
    list.replaceChildren();
    for (const w of result.warnings) {
      const item = el("li", null, "⚠ " + w.message);
      item.dataset.rule = w.rule;
      list.append(item);
    }
    if (result.leftover_variables.length) {
      const item = el("li", "block", "未填写的变量: " + result.leftover_variables.map((v) => `{${v}}`).join(" ") + " — 请先替换再发送");
      item.dataset.rule = "variable";
      list.append(item);
    }
    state.canSend = result.can_send && Boolean(state.selected);
    $("send").disabled = !state.canSend;
  }, 120);
}

function replyBody(c, text) {
  // What the reply answers: the combined draft's messages, or the message on screen, plus those the agent ticked.
  const picked = state.picked || {};
  const body = { text, suggested_text: picked.suggested_text };
  const answers = new Set(c.also);
  if (picked.combined) {
    body.parts = picked.combined;
    for (const part of picked.combined) answers.add(part.message_id);
  } else {
    const target = picked.message_id !== undefined && picked.message_id !== null ? picked.message_id : c.selectedMessage;
    if (target !== null) { body.message_id = target; answers.add(target); }
    if (picked.entry_id) { body.entry_id = picked.entry_id; body.rank = picked.rank; }
  }
  if (answers.size) body.answers = [...answers];
  return body;
}

async function send() {
  const c = current();
  const text = $("reply").value;
  if (!c || !text.trim()) return;
  const response = await fetch(api("/replies"), {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(replyBody(c, text)),
  });
  const result = await response.json();
  if (!response.ok) {
    $("warnings").replaceChildren(el("li", "block", result.error));
    return;
  }
  $("reply").value = "";
  $("filled").textContent = "";
  $("warnings").replaceChildren();
  state.picked = null;
  $("send").disabled = true;
  c.also.clear();
  c.manual = false;
  onEvent({ type: "agent_message", ...result });
}

function onEvent(event) {
  const c = conversation(event.conversation_id);
  if (event.shop) c.shop = event.shop;
  if (!c.messages.some((m) => m.id === event.message.id)) c.messages.push(event.message);
  if (event.pending) setBurst(c, event);
  if (event.type === "customer_message") {
    c.suggestions.set(event.message.id, event.suggestion);
    if (state.selected === null) state.selected = c.id;
    if (state.selected !== c.id) c.unread += 1;
  }
  followLatest(c, event.type === "customer_message" ? event.message.id : undefined);
  render();
  if (event.type === "customer_message" && state.selected === c.id) {
    document.body.dataset.lastPainted = String(event.message.id);
  }
}

function connect() {
  const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/agent`);
  socket.addEventListener("message", (m) => onEvent(JSON.parse(m.data)));
  socket.addEventListener("open", () => { document.body.dataset.connected = "true"; });
  socket.addEventListener("close", () => { document.body.dataset.connected = "false"; setTimeout(connect, 1000); });
}

let searchTimer = null;
function search() {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(async () => {
    const q = $("search").value;
    const inShop = state.selected ? `&conversation_id=${encodeURIComponent(state.selected)}` : "";  // its shop's entries and facts
    const response = await fetch(`/api/kb/search?q=${encodeURIComponent(q)}${inShop}`);
    if (!response.ok) return;
    const data = await response.json();
    const list = $("results");
    list.replaceChildren();
    for (const r of data.results) {
      const item = el("li");
      const button = el("button", null, r.text);
      button.dataset.entryId = r.id;
      button.append(el("span", "meta", `${r.id} · 匹配: ${r.matched_question}`));
      button.addEventListener("click", () => pick({ id: r.id, text: r.text, filled: {} }, null));
      item.append(button);
      list.append(item);
    }
  }, 150);
}

function typing(target) {
  return target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT");
}

document.addEventListener("keydown", (e) => {
  if (e.target === $("reply")) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); if (state.canSend) send(); }
    if (e.key === "Escape") $("reply").blur();
    return;
  }
  if (e.target === $("search")) {
    if (e.key === "Escape") $("search").blur();
    if (e.key === "Enter") { const first = $("results").querySelector("button"); if (first) first.click(); }
    return;
  }
  if (typing(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
  const c = current();
  const s = c && c.selectedMessage !== null ? c.suggestions.get(c.selectedMessage) : null;
  if (["1", "2", "3"].includes(e.key) && s) {
    const reply = s.suggestions[Number(e.key) - 1];
    if (reply) { e.preventDefault(); pick(reply, Number(e.key)); }
  } else if (e.key === "0" && c && c.combined && c.pending.length > 1) {
    e.preventDefault();
    pickCombined();
  } else if (e.key === "ArrowUp" || e.key === "ArrowDown") {
    e.preventDefault();
    stepMessage(e.key === "ArrowUp" ? -1 : 1);
  } else if (e.key === "/") {
    e.preventDefault();
    $("search").focus();
  } else if (e.key === "[" || e.key === "]") {
    const ids = [...state.conversations.keys()];
    if (!ids.length) return;
    const at = ids.indexOf(state.selected);
    const next = ids[(at + (e.key === "]" ? 1 : ids.length - 1)) % ids.length];
    select(next);
  }
});

$("reply").addEventListener("input", () => { if (state.picked && $("reply").value === "") state.picked = null; check(); });
$("send").addEventListener("click", send);
$("search").addEventListener("input", search);

(async function start() {
  const response = await fetch("/api/conversations");
  if (response.ok) {
    const data = await response.json();
    for (const item of data.conversations) {
      const c = conversation(item.id);
      c.shop = item.shop;
      if (item.last_message) c.messages = [item.last_message];
    }
  }
  render();
  connect();
})();
