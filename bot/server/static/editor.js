// Knowledge editor: list/filter entries, edit with field-level checks, near-duplicates, history/diff/revert,
// conflicts, learning from traffic, import/export. Every text from the KB or buyers is set with textContent.
"use strict";

const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
};
const STATE_LABEL = { approved: "已通过", draft: "草稿", retired: "已下线", "approved, edit pending": "已通过 · 修改待审" };
const ACTION_LABEL = { create: "新建", edit: "修改", approve: "审核通过", retire: "下线", revert: "恢复", discard: "放弃修改", import: "导入" };

const state = { meta: { intents: [], shop: {} }, record: null, reviewTimer: null, pendingPrefill: null };
// The shop whose entries this page edits (?shop=NAME; "common": the layer every shop inherits); every API call names it.
const SHOP = new URLSearchParams(location.search).get("shop") || "default";
const inShop = (url) => `${url}${url.includes("?") ? "&" : "?"}shop=${encodeURIComponent(SHOP)}`;


function notice(text, isError = false) {
  $("notice").textContent = text;
  $("notice").className = isError ? "error" : "";
}

async function api(method, url, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(inShop(url), options);
  const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  return { ok: response.ok, status: response.status, data };
}

// -- routing -------------------------------------------------------------------------------------

function route() {
  const hash = location.hash || "#/";
  let view = "list";
  if (hash.startsWith("#/entry/")) view = "entry";
  else if (hash === "#/new") view = "new";
  else if (hash === "#/traffic") view = "traffic";
  else if (hash === "#/files") view = "files";
  for (const section of document.querySelectorAll(".view")) section.hidden = true;
  for (const link of document.querySelectorAll(".topbar nav a")) {
    link.setAttribute("aria-current", link.dataset.view === view ? "page" : "false");
  }
  notice("");
  if (view === "list") { $("view-list").hidden = false; loadList(); }
  if (view === "entry") { $("view-entry").hidden = false; openEntry(decodeURIComponent(hash.slice("#/entry/".length))); }
  if (view === "new") { $("view-entry").hidden = false; openNew(); }
  if (view === "traffic") { $("view-traffic").hidden = false; loadClusters(); }
  if (view === "files") { $("view-files").hidden = false; }
}

// -- list ----------------------------------------------------------------------------------------

function stateBadge(record) {
  const cls = record.pending ? "pending" : record.status;
  return el("span", `state ${cls}`, STATE_LABEL[record.state] || record.state);
}

async function loadList(offset = 0) {
  const params = new URLSearchParams();
  for (const [key, id] of [["q", "f-q"], ["intent", "f-intent"], ["tag", "f-tag"], ["status", "f-status"]]) {
    if ($(id).value.trim()) params.set(key, $(id).value.trim());
  }
  params.set("offset", String(offset));
  const { ok, data } = await api("GET", `/api/kb/entries?${params}`);
  if (!ok) return notice(data.error, true);
  const body = $("entries");
  if (!offset) body.replaceChildren();  // a new search; "more" appends the next page
  for (const record of data.entries) {
    const head = record.pending || record;
    const row = el("tr");
    row.dataset.id = record.id;
    const link = el("a", null, record.id);
    link.href = `#/entry/${encodeURIComponent(record.id)}`;
    const idCell = el("td");
    idCell.append(link);
    const stateCell = el("td");
    stateCell.append(stateBadge(record));
    row.append(idCell, el("td", null, head.intent), stateCell, el("td", null, `${head.questions[0]} (${head.questions.length})`),
      el("td", "answer", head.answer), el("td", null, `v${record.version}`), el("td", "hint", `${record.updated_by}`));
    body.append(row);
  }
  $("count").textContent = `${data.count} 条`;
  $("more").hidden = data.next_offset === null;
  $("more").dataset.offset = data.next_offset ?? "";
}

// -- entry form ----------------------------------------------------------------------------------

function formContent() {
  return {
    intent: $("e-intent").value,
    questions: $("e-questions").value.split("\n").map((q) => q.trim()).filter(Boolean),
    answer: $("e-answer").value.trim(),
    tags: $("e-tags").value.split(/[,，、]/).map((t) => t.trim()).filter(Boolean),
  };
}

function fillForm(content) {
  $("e-intent").value = content.intent || state.meta.intents[0];
  $("e-questions").value = (content.questions || []).join("\n");
  $("e-answer").value = content.answer || "";
  $("e-tags").value = (content.tags || []).join(", ");
}

function entryText(content) {
  return [`意图: ${content.intent}`, `标签: ${(content.tags || []).join(", ")}`, "问法:",
    ...(content.questions || []).map((q) => `  - ${q}`), "答案:", `  ${content.answer}`].join("\n");
}

function showFieldErrors(errors) {
  for (const box of document.querySelectorAll(".field-error")) {
    const messages = (errors || {})[box.dataset.field] || [];
    box.textContent = messages.join("\n");
    box.parentElement.classList.toggle("invalid", messages.length > 0);
  }
}

function showWarnings(warnings) {
  const list = $("rule-warnings");
  list.replaceChildren(...(warnings || []).map((w) => el("li", null, `⚠ ${w.message}`)));
}

function showSimilar(matches, allowCreate) {
  const box = $("similar");
  const list = $("similar-list");
  list.replaceChildren();
  box.hidden = !matches || matches.length === 0;
  $("create-anyway").hidden = !allowCreate || box.hidden;
  for (const match of matches || []) {
    const item = el("li");
    const link = el("a", null, match.id);
    link.href = `#/entry/${encodeURIComponent(match.id)}`;
    item.append(link, el("span", "reason", `相似度 ${match.score.toFixed(2)} · “${match.question}” ≈ “${match.matched}”`));
    item.append(el("div", "hint", match.answer));
    const add = el("button", "add-variant", `把新问法加到 ${match.id}`);
    add.type = "button";
    add.addEventListener("click", () => addAsVariant(match.id));
    item.append(add);
    list.append(item);
  }
}

function scheduleReview() {
  clearTimeout(state.reviewTimer);
  state.reviewTimer = setTimeout(review, 250);
}

async function review() {
  const content = formContent();
  const body = { ...content, entry_id: state.record ? state.record.id : null };
  const { ok, data } = await api("POST", "/api/kb/review", body);
  if (!ok) return;
  const touched = content.questions.length > 0 || content.answer;
  showFieldErrors(touched ? data.errors : {});
  showWarnings(data.warnings);
  showSimilar(state.record ? [] : data.near_duplicates, false);
  updateButtons();
}

function updateButtons() {
  const record = state.record;
  $("approve").disabled = !record || (record.status === "approved" && !record.pending);
  $("discard").hidden = !record || !record.pending;
  $("retire").disabled = !record || record.status === "retired";
  $("e-id").disabled = Boolean(record);
}

function resetSide() {
  $("conflict").hidden = true;
  $("similar").hidden = true;
  $("live").hidden = true;
  $("history-box").hidden = true;
  $("diff").hidden = true;
  showFieldErrors({});
  showWarnings([]);
}

function openNew() {
  state.record = null;
  resetSide();
  $("entry-title").textContent = "新建条目";
  $("entry-state").textContent = "新条目保存为草稿，审核通过后才会推荐给客服。";
  $("e-id").value = "";
  fillForm(state.pendingPrefill || { intent: state.meta.intents[0], questions: [], answer: "", tags: [] });
  if (state.pendingPrefill) scheduleReview();
  state.pendingPrefill = null;
  updateButtons();
  $("e-questions").focus();
}

async function openEntry(id) {
  const { ok, data } = await api("GET", `/api/kb/entries/${encodeURIComponent(id)}`);
  if (!ok) return notice(data.error, true);
  resetSide();
  showRecord(data.entry, data.history, data.history_page);
}

function showRecord(record, history, historyPage) {
  state.record = record;
  $("entry-title").textContent = record.id;
  $("entry-state").replaceChildren(stateBadge(record), el("span", null, ` 版本 v${record.version} · ${record.updated_by} · ${record.updated_at.replace("T", " ").slice(0, 19)}`));
  $("e-id").value = record.id;
  fillForm(record.pending || record);
  $("live").hidden = !record.pending;
  if (record.pending) $("live-text").textContent = entryText(record);
  if (history) showHistory(history, historyPage, false);
  updateButtons();
}

// A page of the entry's versions (newest first); "更早的版本" appends the next page.
function showHistory(history, historyPage, append) {
  $("history-box").hidden = false;
  const list = $("history");
  if (!append) list.replaceChildren();
  const more = $("history-more");
  more.hidden = historyPage.next_before === null;
  more.dataset.before = historyPage.next_before ?? "";
  for (const revision of history) {
    const item = el("li");
    item.dataset.version = revision.version;
    item.append(el("strong", null, `v${revision.version} ${ACTION_LABEL[revision.action] || revision.action}`),
      el("span", "reason", `${revision.author} · ${revision.created_at.replace("T", " ").slice(0, 19)}${revision.note ? " · " + revision.note : ""}`));
    const diff = el("button", "show-diff", "差异");
    diff.type = "button";
    diff.addEventListener("click", () => showDiff(revision.version));
    const revert = el("button", "revert", "恢复到此版本");
    revert.type = "button";
    revert.addEventListener("click", () => revertTo(revision.version));
    item.append(el("br"), diff, revert);
    list.append(item);
  }
}

// Versions older than the last one shown: paged by version, so versions saved meanwhile shift nothing.
async function moreHistory() {
  const more = $("history-more");
  if (more.disabled) return;
  more.disabled = true;
  try {
    const { ok, data } = await api("GET", `/api/kb/entries/${encodeURIComponent(state.record.id)}/history?before=${more.dataset.before}`);
    if (!ok) return notice(data.error, true);
    showHistory(data.history, data.history_page, true);
  } finally {
    more.disabled = false;
  }
}

async function showDiff(version) {
  const { ok, data } = await api("GET", `/api/kb/entries/${encodeURIComponent(state.record.id)}/diff?version=${version}`);
  if (!ok) return notice(data.error, true);
  const box = $("diff");
  box.hidden = false;
  box.replaceChildren(...data.diff.map((line) => el("span", line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : null, line + "\n")));
}

async function reload(message) {
  await openEntry(state.record.id);
  if (message) notice(message);
}

async function entryAction(action, body, message) {
  const { ok, status, data } = await api("POST", `/api/kb/entries/${encodeURIComponent(state.record.id)}/${action}`, { base_version: state.record.version, ...body });
  if (!ok) {
    if (status === 409 && data.conflict) return showConflict(data, formContent());
    if (status === 422 && data.fields) showFieldErrors(data.fields);
    return notice(data.error, true);
  }
  await reload(message);
}

async function revertTo(version) {
  await entryAction("revert", { to_version: version }, `已恢复 v${version} 的内容为草稿，审核通过后生效`);
}

function showConflict(data, yours) {
  const current = data.conflict.current;
  $("conflict").hidden = false;
  $("conflict-text").textContent = data.error;
  $("conflict-yours").textContent = entryText(yours);
  $("conflict-theirs").textContent = entryText(current.pending || current);
  state.conflict = { yours, current };
  notice("保存冲突：你的修改没有保存，请选择保留哪个版本", true);
}

async function save(event) {
  if (event) event.preventDefault();
  const content = formContent();
  if (state.record) {
    const { ok, status, data } = await api("PUT", `/api/kb/entries/${encodeURIComponent(state.record.id)}`, { ...content, base_version: state.record.version });
    if (!ok) {
      if (status === 409 && data.conflict) return showConflict(data, content);
      showFieldErrors(data.fields || {});
      return notice(data.error, true);
    }
    await reload("已保存为草稿" + (data.entry.pending ? "；线上仍是通过的版本，审核通过后替换" : ""));
  } else {
    await create(content, false);
  }
}

async function create(content, allowSimilar) {
  const { ok, status, data } = await api("POST", "/api/kb/entries", { ...content, id: $("e-id").value.trim() || null, allow_similar: allowSimilar });
  if (!ok) {
    if (status === 409 && data.near_duplicates) {
      showSimilar(data.near_duplicates, true);
      return notice("已有相近的条目：可以把问法加到其中一个，或仍然新建", true);
    }
    showFieldErrors(data.fields || {});
    return notice(data.error, true);
  }
  if (state.pendingTraffic) {
    await api("POST", "/api/traffic/accept", { message_ids: state.pendingTraffic, action: "new_entry", entry_id: data.entry.id });
    state.pendingTraffic = null;
  }
  location.hash = `#/entry/${encodeURIComponent(data.entry.id)}`;
  notice(`已新建草稿 ${data.entry.id}，审核通过后推荐给客服`);
}

async function addAsVariant(targetId) {
  const questions = formContent().questions;
  if (!questions.length) return notice("先填写买家问法", true);
  const target = await api("GET", `/api/kb/entries/${encodeURIComponent(targetId)}`);
  if (!target.ok) return notice(target.data.error, true);
  const { ok, data } = await api("POST", `/api/kb/entries/${encodeURIComponent(targetId)}/variants`, { questions, base_version: target.data.entry.version });
  if (!ok) return notice(data.error, true);
  location.hash = `#/entry/${encodeURIComponent(targetId)}`;
  notice(`已把 ${questions.length} 个问法加到 ${targetId} (待审核)`);
}

// -- learning from traffic -----------------------------------------------------------------------

// The first page of groups is a snapshot of the traffic; "更多分组" appends that snapshot's next page, cut after the
// last group shown, so new messages and the groups accepted or dismissed meanwhile shift nothing. A reply to an
// earlier load (the page was opened again meanwhile) is dropped.
let clusterLoads = 0;

async function loadClusters(append = false) {
  const box = $("clusters");
  const more = $("clusters-more");
  const load = ++clusterLoads;
  if (!append) {
    box.replaceChildren(el("p", "hint", "正在分析…"));
    more.hidden = true;
  }
  more.disabled = true;
  try {
    const query = append ? `?snapshot=${more.dataset.snapshot}&after=${more.dataset.after}` : "";
    const { ok, data } = await api("GET", `/api/traffic/clusters${query}`);
    if (load !== clusterLoads) return;
    if (!ok) {
      if (!append) box.replaceChildren();
      return notice(data.error, true);
    }
    if (!append) box.replaceChildren();
    if (!append && !data.clusters.length) box.append(el("p", "empty", "没有待处理的消息"));
    for (const cluster of data.clusters) box.append(clusterCard(cluster));
    more.hidden = data.next_after === null;
    more.dataset.snapshot = data.snapshot;
    more.dataset.after = data.next_after ?? "";
  } finally {
    if (load === clusterLoads) more.disabled = false;
  }
}

const REASON_LABEL = { abstained: "未答上", rejected: "客服未采用", rewritten: "大幅改写" };

function clusterCard(cluster) {
  const card = el("div", "cluster");
  card.dataset.key = cluster.key;
  const reasons = Object.entries(cluster.reasons).map(([r, n]) => `${REASON_LABEL[r] || r} ${n}`).join(" · ");
  card.append(el("strong", null, `${cluster.size} 条消息`), el("span", "reason", reasons));
  const list = el("ul");
  for (const m of cluster.messages) {
    const item = el("li", null, m.text);
    if (m.agent_reply) item.append(el("div", "hint", `客服回复: ${m.agent_reply}`));
    list.append(item);
  }
  card.append(list);
  const proposal = cluster.action === "variant"
    ? `建议：加为 ${cluster.entry_id} 的问法 (最接近 “${cluster.entry_question}”，得分 ${cluster.score.toFixed(2)})`
    : `建议：新建条目 (意图 ${cluster.intent || "?"}${cluster.answer ? "，草稿答案取自客服回复" : ""})`;
  card.append(el("p", "proposal", proposal));
  const accept = el("button", "accept", "接受");
  accept.type = "button";
  accept.addEventListener("click", () => acceptCluster(cluster, card));
  const dismiss = el("button", "dismiss", "忽略");
  dismiss.type = "button";
  dismiss.addEventListener("click", () => dismissCluster(cluster, card));
  card.append(accept, dismiss);
  return card;
}

async function acceptCluster(cluster, card) {
  const ids = cluster.messages.map((m) => m.message_id);
  if (cluster.action === "new_entry" && !cluster.answer) {
    state.pendingPrefill = { intent: cluster.intent, questions: cluster.questions, answer: "", tags: ["来自对话"] };
    state.pendingTraffic = ids;  // marked accepted once the entry is saved
    location.hash = "#/new";
    return notice("请补上答案后保存");
  }
  const { ok, data } = await api("POST", "/api/traffic/accept", { message_ids: ids, action: cluster.action, entry_id: cluster.entry_id, questions: cluster.questions, intent: cluster.intent, answer: cluster.answer });
  if (!ok) return notice(data.error, true);
  card.remove();
  notice(cluster.action === "variant" ? `已加为 ${data.entry.id} 的问法并生效` : `已新建草稿 ${data.entry.id}，请审核`);
}

async function dismissCluster(cluster, card) {
  const { ok, data } = await api("POST", "/api/traffic/dismiss", { message_ids: cluster.messages.map((m) => m.message_id) });
  if (!ok) return notice(data.error, true);
  card.remove();
  notice("已忽略");
}

// -- files ---------------------------------------------------------------------------------------

async function importCsv() {
  const file = $("import-file").files[0];
  if (!file) return;
  const response = await fetch(inShop("/api/kb/import"), { method: "POST", headers: { "Content-Type": "text/csv" }, body: await file.arrayBuffer() });
  const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  const problems = $("import-problems");
  problems.replaceChildren(...(data.problems || []).map((p) => el("li", null, p)));
  if (!response.ok) return notice(data.error, true);
  notice(`已导入 ${data.imported} 个条目，线上 ${data.live_entries} 个`);
}

async function writeNlu() {
  const { ok, data } = await api("POST", "/api/kb/nlu");
  if (!ok) return notice(data.error, true);
  $("nlu-result").textContent = `已写出 ${data.examples} 条样例到 ${data.path}`;
}

// -- wiring --------------------------------------------------------------------------------------

async function init() {
  const { ok, data } = await api("GET", "/api/kb/meta");
  if (!ok) return notice(data.error, true);
  state.meta = data;
  const shops = $("shop");
  for (const name of data.shops) shops.append(new Option(name === "common" ? "公共层 (所有店铺继承)" : name, name));
  shops.value = SHOP;
  shops.addEventListener("change", () => { location.search = `?shop=${encodeURIComponent(shops.value)}`; });
  $("export-csv").href = inShop("/api/kb/export.csv");
  $("export-csv").download = `kb-${SHOP}.csv`;
  for (const select of [$("f-intent"), $("e-intent")]) {
    for (const intent of data.intents) select.append(new Option(intent, intent));
  }
  $("variables").textContent = "店铺变量: " + Object.keys(data.shop).map((k) => `{${k}}`).join(" ");
  for (const id of ["f-q", "f-tag"]) $(id).addEventListener("input", () => { clearTimeout(state.listTimer); state.listTimer = setTimeout(() => loadList(), 200); });
  for (const id of ["f-intent", "f-status"]) $(id).addEventListener("change", () => loadList());
  $("more").addEventListener("click", () => loadList(Number($("more").dataset.offset)));
  $("filters").addEventListener("submit", (e) => e.preventDefault());
  for (const id of ["e-questions", "e-answer", "e-tags", "e-intent"]) $(id).addEventListener("input", scheduleReview);
  $("entry-form").addEventListener("submit", save);
  $("history-more").addEventListener("click", moreHistory);
  $("clusters-more").addEventListener("click", () => loadClusters(true));
  $("approve").addEventListener("click", () => entryAction("approve", {}, "已审核通过，客服马上就能看到"));
  $("retire").addEventListener("click", () => entryAction("retire", {}, "已下线，不再推荐给客服"));
  $("discard").addEventListener("click", () => entryAction("discard", {}, "已放弃待审修改"));
  $("create-anyway").addEventListener("click", () => create(formContent(), true));
  $("keep-mine").addEventListener("click", async () => {
    state.record = state.conflict.current;
    fillForm(state.conflict.yours);
    $("conflict").hidden = true;
    await save();
  });
  $("take-theirs").addEventListener("click", () => reload("已载入当前版本"));
  $("import-file").addEventListener("change", importCsv);
  $("write-nlu").addEventListener("click", writeNlu);
  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
    if ((event.ctrlKey || event.metaKey) && event.key === "s" && !$("view-entry").hidden) { event.preventDefault(); save(); return; }
    if (typing) return;
    if (event.key === "/") { event.preventDefault(); location.hash = "#/"; $("f-q").focus(); }
    if (event.key === "n") { event.preventDefault(); location.hash = "#/new"; }
  });
  window.addEventListener("hashchange", route);
  route();
}

init();
