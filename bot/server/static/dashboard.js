// The team lead's dashboard: reads /api/dashboard (or the figures `bot report` embedded in its page) and draws
// cards, SVG charts and tables. Every figure shows its count; every text from buyers or agents is set with textContent.
"use strict";

const EMBEDDED = window.DASHBOARD_DATA || null;  // `bot report`: the figures, no server
const EDITOR = (window.DASHBOARD_SERVER || "") + "/editor";
const view = { sort: "shown", offset: 0, limit: 20, since: "", until: "", shop: "" };
const SORT_LABELS = { shown: "展示", taken: "采用", taken_unedited: "原样采用", mean_relative_edit: "平均改动", ignored: "未选" };

const $ = (id) => document.getElementById(id);

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function pct(rate) { return rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`; }

function duration(ms) {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${Math.round(ms)} 毫秒`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} 秒`;
  return `${(ms / 60000).toFixed(1)} 分钟`;
}

function count(n, what) { return el("span", "count", `n = ${n}${what ? " " + what : ""}`); }
function nodata() { return el("p", "nodata", "暂无数据"); }

function section(title, wide) {
  const node = el("section", wide ? "wide" : "");
  node.append(el("h2", "", title));
  return node;
}

function entryLink(id) {
  const link = el("a", "", id);
  link.href = `${EDITOR}#/entry/${encodeURIComponent(id)}`;
  return link;
}

// -- charts (SVG, no library) --------------------------------------------------------------------

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

// Bars of `value(item)` (a share 0..1 when `share`), labelled below by `label(item)`; a tooltip gives the count.
function barChart(items, { label, value, tip, share = true, name }) {
  const width = 460, height = 170, left = 34, bottom = 34, top = 14;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": name });
  const values = items.map(value);
  const most = share ? 1 : Math.max(1, ...values.filter((v) => v !== null));
  const plot = height - bottom - top;
  chart.append(svg("line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, class: "axis" }));
  for (const mark of [0, 0.5, 1]) {
    const y = height - bottom - plot * mark;
    chart.append(svg("text", { x: left - 4, y: y + 3, "text-anchor": "end" }, share ? `${mark * 100}%` : Math.round(most * mark)));
  }
  const step = (width - left) / Math.max(items.length, 1);
  const every = Math.ceil(items.length / 12);
  items.forEach((item, i) => {
    const v = values[i];
    const h = v === null ? 0 : (plot * v) / most;
    const x = left + i * step + step * 0.15;
    const barWidth = Math.min(Math.max(step * 0.7, 1), 48);
    const bar = svg("rect", { x: x + (step * 0.7 - barWidth) / 2, y: height - bottom - h, width: barWidth, height: h, class: "bar" });
    bar.append(svg("title", {}, tip(item)));
    chart.append(bar);
    if (items.length <= 12) chart.append(svg("text", { x: x + step * 0.35, y: height - bottom - h - 3, "text-anchor": "middle" }, share ? pct(v) : v));
    if (i % every === 0) chart.append(svg("text", { x: x + step * 0.35, y: height - bottom + 13, "text-anchor": "middle" }, label(item)));
  });
  return chart;
}

function table(headers, rows) {
  const node = el("table", "figures-table");
  const head = node.createTHead().insertRow();
  for (const h of headers) {
    const th = el("th");
    if (h instanceof Node) th.append(h); else th.textContent = h;
    head.append(th);
  }
  const body = node.createTBody();
  for (const cells of rows) {
    const tr = body.insertRow();
    for (const cell of cells) {
      const td = tr.insertCell();
      if (cell instanceof Node) td.append(cell); else td.textContent = cell === null || cell === undefined ? "—" : String(cell);
    }
  }
  return node;
}

// -- sections ------------------------------------------------------------------------------------

function overview(data) {
  const node = section("概览", true);
  const cards = el("div", "cards");
  const card = (title, value, n, what, id) => {
    const c = el("div", "card");
    c.id = id;
    c.append(el("div", "", title), el("div", "value", value), count(n, what));
    cards.append(c);
  };
  const a = data.acceptance, c = data.coverage, s = data.speed;
  card("采纳率 (回复从建议开始)", pct(a.rate), a.answered, "条已回复的买家消息", "card-acceptance");
  card("未给出建议", pct(c.rate), c.messages, "条买家消息", "card-abstained");
  card("买家等待 p50 / p90", `${duration(s.wait.p50_ms)} / ${duration(s.wait.p90_ms)}`, s.wait.count, "次回复", "card-wait");
  card("建议耗时 p95", duration(s.suggest_latency.p95_ms), s.suggest_latency.count, "次建议", "card-latency");
  node.append(cards);
  return node;
}

function acceptanceSection(a) {
  const node = section("采纳率");
  node.id = "acceptance";
  if (!a.answered) { node.append(nodata()); return node; }
  node.append(el("h3", "", "按天"), barChart(a.daily, {
    name: "每天的采纳率", label: (d) => d.day.slice(5), value: (d) => d.rate,
    tip: (d) => `${d.day}: ${pct(d.rate)} (${d.from_suggestion} / ${d.answered})`,
  }));
  node.append(el("h3", "", "采用的是第几条建议"), table(["名次", "次数", "占已回复"],
    a.by_rank.map((r) => [r.rank === null ? "其他" : `第 ${r.rank} 条`, r.count, pct(r.share)])));
  node.append(el("h3", "", "按意图"), table(["意图", "已回复", "从建议开始", "采纳率"],
    a.by_intent.map((r) => [r.intent, r.answered, r.from_suggestion, pct(r.rate)])));
  return node;
}

function editsSection(e) {
  const node = section("修改幅度");
  node.id = "edits";
  node.append(count(e.taken, "次采用建议"));
  if (!e.taken) { node.append(nodata()); return node; }
  node.append(barChart(e.histogram, {
    name: "采用的建议被改动的幅度 (编辑距离 / 建议长度)", label: (b) => b.bucket, value: (b) => b.share,
    tip: (b) => `${b.bucket}: ${b.count} 次 (${pct(b.share)})`,
  }));
  node.append(el("p", "hint", "编辑距离相对建议长度；“0” 为原样发送。"));
  return node;
}

function entriesSection(entries) {
  const node = section("各条目", true);
  node.id = "entries";
  node.append(count(entries.count, "个条目被展示或采用"));
  if (!entries.count) { node.append(nodata()); return node; }
  const headers = ["条目"].concat(Object.keys(SORT_LABELS).map((key) => {
    const button = el("button", "", SORT_LABELS[key]);
    button.dataset.sort = key;
    button.title = "按此排序";
    button.addEventListener("click", () => { view.sort = key; view.offset = 0; load(); });
    return button;
  }));
  const grid = table(headers, entries.items.map((r) => [entryLink(r.entry_id), r.shown, r.taken, r.taken_unedited,
    r.mean_relative_edit === null ? "—" : pct(r.mean_relative_edit), r.ignored]));
  grid.querySelectorAll("th").forEach((th) => {
    const b = th.querySelector("button");
    th.setAttribute("aria-sort", b && b.dataset.sort === entries.sort ? "descending" : "none");
  });
  node.append(grid);
  if (!EMBEDDED && entries.count > entries.limit) {
    const pager = el("div", "pager");
    const prev = el("button", "", "上一页"), next = el("button", "", "下一页");
    prev.disabled = entries.offset === 0;
    next.disabled = entries.offset + entries.limit >= entries.count;
    prev.addEventListener("click", () => { view.offset = Math.max(0, view.offset - view.limit); load(); });
    next.addEventListener("click", () => { view.offset += view.limit; load(); });
    pager.append(prev, el("span", "hint", `${entries.offset + 1}–${Math.min(entries.offset + entries.limit, entries.count)} / ${entries.count}`), next);
    node.append(pager);
  }
  return node;
}

function rewriteSection(list) {
  const node = section("待改写：常被采用又常被大改的条目", true);
  node.id = "rewrite";
  if (!list.length) { node.append(nodata()); return node; }
  for (const r of list) {
    const item = el("div", "rewrite");
    const head = el("div");
    head.append(entryLink(r.entry_id), el("span", "count", `  采用 ${r.taken} 次，平均改动 ${pct(r.mean_relative_edit)}`));
    const versions = el("div", "versions");
    const approved = el("div", "approved");
    approved.append(el("span", "label", "现在的答案"), document.createTextNode(r.answer || "（已删除）"));
    versions.append(approved);
    for (const v of r.versions) {
      const box = el("div");
      box.append(el("span", "label", `客服改成 (${v.count} 次)`), document.createTextNode(v.text));
      versions.append(box);
    }
    item.append(head, versions);
    node.append(item);
  }
  return node;
}

function deadSection(list) {
  const node = section("无人采用：常展示、从未被采用");
  node.id = "dead";
  if (!list.length) { node.append(nodata()); return node; }
  node.append(table(["条目", "展示", "答案"], list.map((r) => [entryLink(r.entry_id), r.shown, r.answer || "—"])));
  return node;
}

function coverageSection(c) {
  const node = section("覆盖：没给出建议的消息");
  node.id = "coverage";
  node.append(count(c.messages, "条买家消息"));
  if (!c.messages) { node.append(nodata()); return node; }
  node.append(el("h3", "", "每天未给出建议的比例"), barChart(c.daily, {
    name: "每天未给出建议的比例", label: (d) => d.day.slice(5), value: (d) => d.rate,
    tip: (d) => `${d.day}: ${pct(d.rate)} (${d.abstained} / ${d.messages})`,
  }));
  const head = el("h3", "", "最多的未答问题 ");
  const traffic = el("a", "", "去“来自对话”整理 →");
  traffic.href = `${EDITOR}#/traffic`;
  head.append(traffic);
  node.append(head);
  if (!c.unanswered.length) { node.append(nodata()); return node; }
  for (const g of c.unanswered) {
    node.append(el("div", "", `${g.intent}: ${g.count} 条`));
    const examples = el("ul", "examples");
    for (const text of g.examples) examples.append(el("li", "", text));
    node.append(examples);
  }
  return node;
}

function speedSection(s, perAgent) {
  const node = section("速度");
  node.id = "speed";
  node.append(table(["", "p50", "p90 / p95", "次数"], [
    ["买家消息到客服回复", duration(s.wait.p50_ms), duration(s.wait.p90_ms), s.wait.count],
    ["服务器给出建议", duration(s.suggest_latency.p50_ms), duration(s.suggest_latency.p95_ms), s.suggest_latency.count],
  ]));
  if (perAgent) {
    node.append(el("h3", "", "各客服"));
    const agents = s.per_agent || [];
    if (!agents.length) { node.append(nodata()); return node; }
    const grid = table(["客服", "已回复", "采纳率", "等待 p50", "等待 p90"], agents.map((a) =>
      [a.agent, a.answered, pct(a.rate), duration(a.p50_ms), duration(a.p90_ms)]));
    grid.id = "per-agent";
    node.append(grid);
  }
  return node;
}

function render(data) {
  const figures = $("figures");
  figures.replaceChildren(overview(data), acceptanceSection(data.acceptance), editsSection(data.edits),
    rewriteSection(data.rewrite_candidates), deadSection(data.dead_weight), coverageSection(data.coverage),
    entriesSection(data.entries), speedSection(data.speed, data.per_agent));
  $("period").textContent = `${data.period.since_shop_time} 至 ${data.period.until_shop_time} (北京时间)`;
}

// -- the live page -------------------------------------------------------------------------------

function isoDay(date) {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 10);
}

function setDays(days) {
  const today = new Date();
  $("until").value = isoDay(today);
  $("since").value = isoDay(new Date(today.getTime() - (days - 1) * 86400000));
}

let latest = 0;  // the newest request: a slower earlier answer never replaces it

async function load() {
  const asked = ++latest;
  view.since = $("since").value;
  view.until = $("until").value;
  view.shop = $("shop").value.trim();
  const range = { since: view.since, until: view.until, ...(view.shop ? { shop: view.shop } : {}) };
  const params = new URLSearchParams({ ...range, sort: view.sort, limit: view.limit, offset: view.offset });
  history.replaceState(null, "", `?${new URLSearchParams(range)}`);
  $("notice").textContent = "";
  const response = await fetch(`/api/dashboard?${params}`);
  const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (asked !== latest) return;
  if (!response.ok) { $("notice").textContent = data.error || `HTTP ${response.status}`; return; }
  render(data);
  document.body.dataset.loaded = `${view.since}/${view.until}/${view.sort}/${view.offset}`;
}

function start() {
  if (EMBEDDED) {
    $("range").hidden = true;
    render(EMBEDDED);
    return;
  }
  const query = new URLSearchParams(location.search);
  if (query.get("since") && query.get("until")) { $("since").value = query.get("since"); $("until").value = query.get("until"); }
  else setDays(7);
  if (query.get("shop")) $("shop").value = query.get("shop");
  $("range").addEventListener("submit", (event) => { event.preventDefault(); view.offset = 0; load(); });
  for (const button of document.querySelectorAll("[data-days]")) {
    button.addEventListener("click", () => { setDays(Number(button.dataset.days)); view.offset = 0; load(); });
  }
  load();
}

document.addEventListener("DOMContentLoaded", start);
