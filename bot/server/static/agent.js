// Agent console: conversations, chat, suggestions. Customer text is only ever set with textContent.
"use strict";

const state = {
  conversations: new Map(), // id -> {id, messages: [], unread: 0, suggestion: null, lastCustomerId: null}
  selected: null,
  picked: null, // {entry_id, rank, suggested_text} of the suggestion put in the reply box
  canSend: false,
};

const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
};

function conversation(id) {
  if (!state.conversations.has(id)) {
    state.conversations.set(id, { id, messages: [], unread: 0, suggestion: null, lastCustomerId: null });
  }
  return state.conversations.get(id);
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
  const c = state.selected && state.conversations.get(state.selected);
  $("chat-title").textContent = c ? `与 ${c.id} 的对话` : "请选择会话";
  if (!c) return;
  for (const m of c.messages) {
    const bubble = el("div", `msg ${m.role}`, m.text);
    bubble.dataset.messageId = m.id;
    chat.append(bubble);
  }
  chat.scrollTop = chat.scrollHeight;
}

function renderSuggestion() {
  const c = state.selected && state.conversations.get(state.selected);
  const box = $("intent");
  const list = $("suggestions");
  box.replaceChildren();
  list.replaceChildren();
  if (!c || !c.suggestion) {
    box.append(el("span", "empty", "等待买家消息"));
    return;
  }
  const s = c.suggestion;
  box.dataset.messageId = c.lastCustomerId;
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
  renderSuggestion();
}

async function select(id) {
  state.selected = id;
  const c = conversation(id);
  c.unread = 0;
  if (!c.loaded) {
    const response = await fetch(`/api/conversations/${encodeURIComponent(id)}/messages`);
    if (response.ok) {
      const data = await response.json();
      c.messages = data.messages.concat(c.messages.filter((m) => !data.messages.some((d) => d.id === m.id)));
      c.messages.sort((a, b) => a.id - b.id);
      c.loaded = true;
      const lastCustomer = [...c.messages].reverse().find((m) => m.role === "customer");
      if (lastCustomer && !c.suggestion) {  // after a reload: suggestions for the last buyer message
        const s = await fetch(`/api/suggest?q=${encodeURIComponent(lastCustomer.text)}&conversation_id=${encodeURIComponent(id)}`);
        if (s.ok) { c.suggestion = await s.json(); c.lastCustomerId = lastCustomer.id; }
      }
    }
  }
  state.picked = null;
  render();
}

function pick(reply, rank) {
  const box = $("reply");
  box.value = reply.text;
  state.picked = { entry_id: reply.id, rank, suggested_text: reply.text };
  const filled = Object.entries(reply.filled || {});
  $("filled").textContent = filled.length ? "已填变量: " + filled.map(([k, v]) => `${k}=${v}`).join(" · ") : "";
  box.focus();
  box.setSelectionRange(box.value.length, box.value.length);
  check();
}

let checkTimer = null;
function check() {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(async () => {
    const text = $("reply").value;
    const response = await fetch("/api/check", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text }) });
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

async function send() {
  const c = state.selected && state.conversations.get(state.selected);
  const text = $("reply").value;
  if (!c || !text.trim()) return;
  const body = { text, message_id: c.lastCustomerId, ...(state.picked || {}) };
  const response = await fetch(`/api/conversations/${encodeURIComponent(c.id)}/replies`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const result = await response.json();
  if (!response.ok) {
    const list = $("warnings");
    list.replaceChildren(el("li", "block", result.error));
    return;
  }
  $("reply").value = "";
  $("filled").textContent = "";
  $("warnings").replaceChildren();
  state.picked = null;
  $("send").disabled = true;
}

function onEvent(event) {
  const c = conversation(event.conversation_id);
  if (!c.messages.some((m) => m.id === event.message.id)) c.messages.push(event.message);
  if (event.type === "customer_message") {
    c.suggestion = event.suggestion;
    c.lastCustomerId = event.message.id;
    if (state.selected === null) state.selected = c.id;
    if (state.selected !== c.id) c.unread += 1;
  }
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
    const response = await fetch(`/api/kb/search?q=${encodeURIComponent(q)}`);
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
  const c = state.selected && state.conversations.get(state.selected);
  if (["1", "2", "3"].includes(e.key) && c && c.suggestion) {
    const reply = c.suggestion.suggestions[Number(e.key) - 1];
    if (reply) { e.preventDefault(); pick(reply, Number(e.key)); }
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
      if (item.last_message) c.messages = [item.last_message];
    }
  }
  render();
  connect();
})();
