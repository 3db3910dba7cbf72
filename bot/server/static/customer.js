// Customer demo page (phone style): sends buyer messages through the integration API, shows agent replies live.
"use strict";

const params = new URLSearchParams(location.search);
const conversationId = params.get("c") || `demo-${Math.random().toString(36).slice(2, 8)}`;
const shop = params.get("shop");  // the shop this buyer writes to (?shop=NAME); none: the default shop
const chat = document.getElementById("chat");
const seen = new Set();

function show(message) {
  if (seen.has(message.id)) return;
  seen.add(message.id);
  const bubble = document.createElement("div");
  bubble.className = `msg ${message.role}`;
  bubble.dataset.messageId = message.id;
  bubble.textContent = message.text;
  chat.append(bubble);
  chat.scrollTop = chat.scrollHeight;
}

document.getElementById("title").textContent = `店铺客服 · ${shop ? shop + " · " : ""}${conversationId}`;

document.getElementById("form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const input = document.getElementById("text");
  const text = input.value;
  if (!text.trim()) return;
  input.value = "";
  const response = await fetch(`/api/conversations/${encodeURIComponent(conversationId)}/messages`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text, ...(shop ? { shop } : {}) }),
  });
  const data = await response.json();
  if (response.ok) show(data.message);
  else { const note = document.createElement("div"); note.className = "hint"; note.textContent = data.error; chat.append(note); }
});

(async function start() {
  const response = await fetch(`/api/conversations/${encodeURIComponent(conversationId)}/messages`);
  if (response.ok) (await response.json()).messages.forEach(show);
  const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/customer/${encodeURIComponent(conversationId)}`);
  socket.addEventListener("open", () => { document.body.dataset.connected = "true"; });
  socket.addEventListener("message", (m) => { const event = JSON.parse(m.data); if (event.type === "agent_message") show(event.message); });
})();
