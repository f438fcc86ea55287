// SPDX-License-Identifier: Apache-2.0
// The observer's page (page.hpp). Plain HTML, CSS and JavaScript, and uPlot (bundle.hpp,
// served from vigild) for its restart chart:
//   - the tree from /api/tree, then patched node by node from the pushed events of
//     /api/events (a killed child turns, then comes back with its new pid, without a reload);
//     only what is drawn is in the DOM: a supervisor of more than 200 children starts
//     collapsed and a list draws 200 at a time, so 10,000 children cost what 200 do;
//     /api/tree is fetched again after events, at most every 1-10 s (rarer the larger the
//     tree and the slower its fetch), for what events
//     do not carry (an OS child's os_pid, RSS, CPU);
//   - a process page when a node is clicked: its row, the kill, restart, stop and start
//     buttons (POSTs with X-Vigil-Action), what `info` shows (Process.info, or the OS
//     child's os_pid, RSS, CPU, health), its restart history with reasons, and its log tail
//     (/api/info, /api/logs), refreshed every 2 s and on its events.
// A token given in the page's URL (?token=...) is passed on to the API.
#include "page.hpp"

namespace vigil::observer {
namespace {

constexpr std::string_view page = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vigil observer</title>
<style>
:root { --bg:#0f1419; --panel:#171d24; --line:#26303b; --text:#d7dde4; --dim:#7d8a97;
        --run:#3fb950; --warn:#d29922; --bad:#f85149; --sup:#58a6ff; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, sans-serif; background:var(--bg); color:var(--text); }
header { display:flex; align-items:center; gap:16px; padding:10px 18px; border-bottom:1px solid var(--line); }
header h1 { font-size:16px; margin:0; font-weight:600; letter-spacing:.3px; }
#conn { font-size:12px; color:var(--dim); }
#conn.live::before { content:"\25CF "; color:var(--run); }
#conn.down::before { content:"\25CF "; color:var(--bad); }
main { display:grid; grid-template-columns: minmax(420px, 1.2fr) 1fr; gap:0; height:calc(100vh - 45px); }
#tree { overflow:auto; padding:12px 18px; border-right:1px solid var(--line); }
#detail { overflow:auto; padding:14px 18px; background:var(--panel); }
ul { list-style:none; margin:0; padding-left:18px; border-left:1px dashed var(--line); }
#treelist > ul { border:0; padding-left:0; }
#chart { margin:0 0 10px; min-height:150px; }
#chart .u-legend { display:none; }
li { margin:2px 0; }
.node { display:flex; align-items:center; gap:10px; padding:4px 8px; border-radius:6px; cursor:pointer; }
.node:hover, .node.sel { background:#1f2731; }
.caret { width:12px; color:var(--dim); flex:none; font-size:11px; }
.dot { width:10px; height:10px; border-radius:50%; flex:none; background:var(--dim); }
.running > .node .dot { background:var(--run); }
.restarting > .node .dot, .backoff > .node .dot, .starting > .node .dot,
.stopping > .node .dot { background:var(--warn); }
.failed > .node .dot, .stopped > .node .dot { background:var(--bad); }
.id { font-weight:600; }
.supervisor > .node .id { color:var(--sup); }
.meta { color:var(--dim); font-size:12px; font-variant-numeric: tabular-nums; }
.badge { font-size:11px; padding:0 6px; border-radius:8px; border:1px solid var(--line); color:var(--dim); }
table { border-collapse:collapse; width:100%; margin:8px 0 14px; }
td, th { text-align:left; padding:3px 8px 3px 0; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--dim); font-weight:500; width:34%; }
td { word-break:break-word; }
h2 { font-size:15px; margin:0 0 6px; } h3 { font-size:13px; color:var(--dim); margin:14px 0 4px; }
button { background:#21262d; color:var(--text); border:1px solid var(--line); border-radius:6px;
         padding:5px 14px; cursor:pointer; font:inherit; }
button.danger { border-color:#6e2b2b; color:#ffb4ae; }
button:hover { background:#2b323b; }
button.more { margin:4px 0 4px 18px; padding:2px 10px; font-size:12px; color:var(--dim); }
.actions { display:flex; gap:8px; align-items:center; flex-wrap:wrap; }
#msg { color:var(--warn); margin-left:4px; font-size:12px; }
pre#logs { background:#0b0f13; border:1px solid var(--line); border-radius:6px; padding:8px; margin:6px 0;
           font:12px/1.4 ui-monospace, monospace; white-space:pre-wrap; word-break:break-all; max-height:320px; overflow:auto; }
.err { color:#ffb4ae; }
.kvs { display:grid; grid-template-columns:1fr 1fr; gap:0 18px; margin:6px 0 12px; }
.kv { display:flex; gap:10px; padding:3px 0; border-bottom:1px solid var(--line); min-width:0; }
.kv .k { color:var(--dim); flex:none; width:42%; }
.kv .v { word-break:break-word; min-width:0; }
#summary .kv .k { width:35%; }
.empty { color:var(--dim); }
</style></head>
<body>
<header><h1>vigil observer</h1><span id="conn">connecting</span><span id="count" class="meta"></span></header>
<main><section id="tree"><div id="chart"><div class="meta" id="chart-title">restarts per 10 s, since this page opened</div></div>
<div id="treelist"><div class="empty">loading the tree...</div></div></section>
<section id="detail"><div class="empty">Click a process to see its page: Process.info, restart history and log tail.</div></section></main>
<script>
"use strict";
// State: the rows of /api/tree by path, patched in place by each pushed event; the DOM holds
// only what is drawn (a supervisor with more than AUTO_OPEN children starts collapsed, and a
// list draws PAGE children at a time), so an event touches one node whatever the tree's size.
const token = new URLSearchParams(location.search).get("token");
const q = token ? "?token=" + encodeURIComponent(token) : "";
const headers = token ? { "Authorization": "Bearer " + token } : {};
const AUTO_OPEN = 200, PAGE = 200;
let rows = new Map(), kids = new Map(), structure = "";
const nodes = new Map(), opened = new Map(), shown = new Map();
let selected = null, note = "", fetchCost = 0, lastFetch = 0, reconTimer = null;
// Paths whose row the events left unsure (an exit with no decision yet, an OS child's new
// os_pid), and since when: the tree is fetched again only for a row unsure for a second (a
// restart in flight settles by itself).
const unsure = new Map();

function fmtUptime(ms) {
  if (ms == null) return "";
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m" + (s % 60) + "s";
  return Math.floor(s / 3600) + "h" + Math.floor((s % 3600) / 60) + "m";
}
function fmtKb(kb) { return kb == null ? "" : kb >= 1024 ? (kb / 1024).toFixed(1) + " MiB" : kb + " KiB"; }
function fmtBytes(b) { return b == null ? "" : b >= 1048576 ? (b / 1048576).toFixed(1) + " MiB" : b >= 1024 ? (b / 1024).toFixed(1) + " KiB" : b + " B"; }
function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
function parentOf(p) { return p.slice(0, p.lastIndexOf("/")); }
function upMs(r) { return r.since == null ? null : Date.now() - r.since; }
function api(path) { return fetch(path, { headers }); }

function metaText(r) {
  const meta = [r.state, r.pid || ""];
  if (r.os_pid) meta.push("os_pid " + r.os_pid, fmtKb(r.rss_kb));
  if (r.restarts) meta.push(r.restarts + " restart" + (r.restarts > 1 ? "s" : ""));
  if (r.since != null && r.state === "running") meta.push("up " + fmtUptime(upMs(r)));
  return meta.filter(Boolean).join(" \u00b7 ");
}
function isOpen(p) { return opened.has(p) ? opened.get(p) : (kids.get(p) || []).length <= AUTO_OPEN; }

// ---- the tree --------------------------------------------------------------------------
function drawList(parent) {
  const ul = el("ul");
  const all = kids.get(parent) || [];
  const n = Math.min(all.length, shown.get(parent) || PAGE);
  for (let i = 0; i < n; ++i) ul.append(drawNode(all[i]));
  if (n < all.length) {
    const more = el("button", "more", "show " + Math.min(PAGE, all.length - n) + " more of " + (all.length - n));
    more.onclick = () => { shown.set(parent, n + PAGE); forget(parent); ul.replaceWith(drawList(parent)); };
    ul.append(more);
  }
  return ul;
}
function drawNode(path) {
  const r = rows.get(path);
  const li = el("li", r.type + " " + r.state);
  li.dataset.path = path;
  const n = el("div", "node" + (path === selected ? " sel" : ""));
  const sup = r.type === "supervisor";
  const caret = el("span", "caret", sup ? (isOpen(path) ? "\u25BE" : "\u25B8") : "");
  n.append(caret, el("span", "dot"), el("span", "id", r.id), el("span", "badge", r.kind));
  if (sup) n.append(el("span", "badge", (kids.get(path) || []).length + " children"));
  const meta = el("span", "meta", metaText(r));
  meta.dataset.role = "meta";
  n.append(meta);
  n.onclick = (ev) => {
    if (sup && ev.target === caret) { opened.set(path, !isOpen(path)); redraw(path); return; }
    select(path);
  };
  li.append(n);
  if (sup && isOpen(path)) li.append(drawList(path));
  nodes.set(path, { li, node: n, meta });
  return li;
}
function forget(prefix) { for (const k of [...nodes.keys()]) if (k.startsWith(prefix + "/")) nodes.delete(k); }
function redraw(path) { const d = nodes.get(path); if (!d) return; forget(path); d.li.replaceWith(drawNode(path)); }
function drawTree() {
  nodes.clear();
  document.getElementById("treelist").replaceChildren(drawList("root"));
  document.getElementById("count").textContent = rows.size + " children";
}
// One node, after its row changed: its class and text, and a flash when its pid changed.
function patch(path, oldPid) {
  const r = rows.get(path), d = nodes.get(path);
  if (path === selected) summary();
  if (!r || !d) return;
  d.li.className = r.type + " " + r.state;
  d.meta.textContent = metaText(r);
  if (oldPid !== undefined && oldPid !== r.pid && r.pid) {
    // An animation, not a class toggled twice: that would force a layout per event.
    d.node.animate([{ background: "#4a1c1c" }, { background: "transparent" }], { duration: 1200, easing: "ease-out" });
  }
}

// The whole tree from /api/tree: on connect, after a change of shape, and now and then after
// events to pick up what events do not carry (an OS child's new os_pid, RSS, CPU).
async function refresh() {
  const t0 = performance.now();
  lastFetch = Date.now();
  const res = await api("/api/tree");
  if (!res.ok) { document.getElementById("treelist").replaceChildren(el("div", "empty", "refused: " + res.status)); return; }
  const list = (await res.json()).children;
  fetchCost = performance.now() - t0;
  const now = Date.now();
  const key = list.map(r => r.path).join("\n");
  const reshape = key !== structure;
  structure = key;
  const old = rows;
  rows = new Map();
  if (reshape) kids = new Map();
  for (const r of list) {
    r.since = r.uptime_ms == null ? null : now - r.uptime_ms;
    r.history = r.history.map(h => ({ at: now - h.ago_ms, decision: h.decision, reason: h.reason }));
    rows.set(r.path, r);
    if (reshape) {
      const p = parentOf(r.path);
      if (!kids.has(p)) kids.set(p, []);
      kids.get(p).push(r.path);
    } else {
      const o = old.get(r.path);
      if (!o || o.pid !== r.pid || o.state !== r.state || o.restarts !== r.restarts || o.os_pid !== r.os_pid || o.rss_kb !== r.rss_kb) patch(r.path, o && o.pid);
    }
  }
  if (reshape) { drawTree(); if (selected) summary(); }
}
function reconcileSoon(urgent) {
  if (reconTimer) return;
  // A fetch of 10,000 children costs the daemon a walk of its index: the more children, the
  // rarer; pushed events keep the nodes current in between.
  const gap = urgent ? 0 : Math.min(10000, Math.max(1000, 10 * fetchCost, rows.size / 2));
  reconTimer = setTimeout(() => {
    reconTimer = null;
    const now = Date.now();
    let settled = false;
    for (const since of unsure.values()) if (now - since >= 1000) { settled = true; break; }
    if (urgent || settled) { unsure.clear(); refresh(); }
    else if (unsure.size) reconcileSoon(false);
  }, Math.max(urgent ? 0 : 200, lastFetch + gap - Date.now()));
}

const stateOf = { restart: "restarting", backoff: "backoff", failed: "failed", escalate: "failed", none: "stopped" };
function onEvent(e) {
  const r = e.path ? rows.get(e.path) : null;
  switch (e.event) {
  case "process_started": case "process_restarted": {
    if (!r) { reconcileSoon(true); return; }
    const oldPid = r.pid;
    r.pid = e.pid; r.state = "running"; r.since = Date.now();
    if (e.restarts != null && e.restarts > r.restarts) r.restarts = e.restarts;
    if (r.os_child) { r.os_pid = null; r.rss_kb = null; r.cpu_ms = null; unsure.set(e.path, Date.now()); }
    else unsure.delete(e.path);
    patch(e.path, oldPid);
    break;
  }
  case "process_exited":
    if (!r) return;
    r.pid = null; r.since = null; if (r.state === "running") r.state = "exited";
    unsure.set(e.path, Date.now());
    patch(e.path);
    break;
  case "supervisor_report":
    countExit();
    if (!r) return;
    if (r.state !== "running" || !e.pid || e.pid === r.pid) r.state = stateOf[e.decision] || r.state;
    r.history.push({ at: Date.now(), decision: e.decision, reason: e.reason });
    r.last_exit_reason = e.reason;
    if (!r.os_child) unsure.delete(e.path);
    patch(e.path);
    break;
  case "supervisor_gave_up": case "config_reloaded":
    reconcileSoon(true);
    return;
  default:
    return;
  }
  if (e.path === selected) processSoon();
  reconcileSoon(false);
}

// ---- the process page -------------------------------------------------------------------
let procTimer = null;
function select(path) {
  const was = nodes.get(selected);
  if (was) was.node.classList.remove("sel");
  selected = path; note = "";
  const now = nodes.get(path);
  if (now) now.node.classList.add("sel");
  page();
  loadProcess();
}
function kv(box, k, v, key) {
  const d = el("div", "kv"); if (key) d.dataset.key = key;
  d.append(el("span", "k", k), el("span", "v", String(v))); box.append(d); return d;
}
function row(t, k, v, key) { const tr = el("tr"); if (key) tr.dataset.key = key; tr.append(el("th", null, k), el("td", null, String(v))); t.append(tr); return tr; }
function page() {
  const d = document.getElementById("detail");
  const r = rows.get(selected);
  if (!r) { d.replaceChildren(el("div", "empty", "Click a process to see its page.")); return; }
  const box = el("div");
  box.append(el("h2", null, r.path));
  const t = el("div", "kvs"); t.id = "summary"; box.append(t);
  const actions = el("div", "actions");
  for (const [what, label, cls] of [["kill", "Kill", "danger"], ["restart", "Restart"], ["stop", "Stop", "danger"], ["start", "Start"]]) {
    const b = el("button", cls || null, label); b.id = what; b.onclick = () => act(what); actions.append(b);
  }
  const msg = el("span", null, note); msg.id = "msg"; actions.append(msg);
  box.append(actions);
  box.append(el("h3", null, "Process"));
  const proc = el("div", "empty", "loading..."); proc.id = "proc"; box.append(proc);
  box.append(el("h3", null, "Restart history (newest last)"));
  const hist = el("div"); hist.id = "history"; box.append(hist);
  box.append(el("h3", null, "Log tail"));
  const logs = el("pre", null, ""); logs.id = "logs"; box.append(logs);
  d.replaceChildren(box);
  summary();
  history(null);
}
function summary() {
  const t = document.getElementById("summary");
  const r = rows.get(selected);
  if (!t || !r) return;
  const fields = [["state", r.state], ["pid", r.pid || "-"], ["kind", r.kind], ["type", r.type],
    ["restarts", r.restarts], ["uptime", r.state === "running" ? fmtUptime(upMs(r)) || "-" : "-"],
    ["last exit", r.last_exit_reason || "-"]];
  if (r.os_child) fields.push(["os_pid", r.os_pid || "-"], ["rss", fmtKb(r.rss_kb) || "-"],
                              ["cpu", r.cpu_ms == null ? "-" : (r.cpu_ms / 1000).toFixed(2) + " s"]);
  t.replaceChildren();
  for (const [k, v] of fields) kv(t, k, v, k);
}
function history(exits) {
  const h = document.getElementById("history");
  if (!h) return;
  const r = rows.get(selected);
  const list = exits ? exits.map(e => ({ at: e.ts, decision: e.decision, reason: e.reason, os_pid: e.os_pid, stderr: e.stderr }))
                     : (r ? r.history : []);
  if (!list.length) { h.replaceChildren(el("div", "empty", "no exits yet")); return; }
  const t = el("table");
  for (const e of list) {
    let what = e.reason + " \u2192 " + e.decision;
    if (e.os_pid) what += " (os_pid " + e.os_pid + ")";
    if (e.stderr && e.stderr.length) what += "; stderr: " + e.stderr[e.stderr.length - 1];
    row(t, new Date(e.at).toLocaleTimeString(), what);
  }
  h.replaceChildren(t);
}
const infoOrder = [["status", "status"], ["current_function", "current function"], ["initial_call", "initial call"],
  ["registered_name", "registered name"], ["message_queue_len", "message queue"], ["memory", "memory"],
  ["reductions", "reductions"], ["links", "links"], ["monitors", "monitors"], ["monitored_by", "monitored by"],
  ["trap_exit", "trap_exit"], ["parent", "parent"], ["os_pid", "os_pid"], ["program", "program"],
  ["rss_kb", "rss"], ["cpu_ms", "cpu"], ["uptime_ms", "os uptime"], ["cgroup", "cgroup"],
  ["cgroup_procs", "cgroup processes"], ["health", "health"], ["state", "state"], ["reason", "reason"], ["retry_ms", "retry in"]];
function shownValue(k, v) {
  if (v == null || v === "") return null;
  if (k === "memory") return fmtBytes(v);
  if (k === "rss_kb") return fmtKb(v);
  if (k === "cpu_ms") return (v / 1000).toFixed(2) + " s";
  if (k === "uptime_ms" || k === "retry_ms") return fmtUptime(v);
  if (k === "health") return v.summary || JSON.stringify(v);
  if (Array.isArray(v)) return v.length ? v.join(", ") : "none";
  return String(v);
}
function info(i, error) {
  const p = document.getElementById("proc");
  if (!p) return;
  if (!i) { p.className = "err"; p.textContent = error || "no information"; return; }
  p.className = "";
  const t = el("div", "kvs");
  for (const [k, label] of infoOrder) {
    const v = shownValue(k, i[k]);
    if (v != null) kv(t, label, v, k);
  }
  // What the OS child's info says is newer than the tree's last fetch.
  const r = rows.get(selected);
  if (r && i.os_pid && r.os_child && (r.os_pid !== i.os_pid || r.rss_kb !== i.rss_kb)) {
    r.os_pid = i.os_pid; r.rss_kb = i.rss_kb; r.cpu_ms = i.cpu_ms; patch(selected);
  }
  const box = el("div"); box.append(t);
  if (i.messages && i.messages.length) {
    box.append(el("div", "meta", "first messages in the queue"));
    const m = el("pre"); m.id = "messages"; m.textContent = i.messages.join("\n"); box.append(m);
  }
  p.replaceChildren(box);
}
function logs(lines) {
  const l = document.getElementById("logs");
  if (!l) return;
  const stick = l.scrollTop + l.clientHeight >= l.scrollHeight - 4;
  l.textContent = lines.length ? lines.map(x => new Date(x.ts).toLocaleTimeString() + " " + x.stream + "| " + x.line).join("\n") : "(no log lines)";
  if (stick) l.scrollTop = l.scrollHeight;
}
let loading = false, again = false;
async function loadProcess() {
  if (!selected) return;
  if (loading) { again = true; return; }
  loading = true;
  const path = selected, qp = "?path=" + encodeURIComponent(path);
  try {
    const [ir, lr] = await Promise.all([api("/api/info" + qp), api("/api/logs" + qp + "&lines=40")]);
    const ib = await ir.json().catch(() => ({})), lb = await lr.json().catch(() => ({}));
    if (path === selected) {
      info(ir.ok ? ib.info : null, ib.error || String(ir.status));
      history(ir.ok && ib.info && ib.info.exits ? ib.info.exits : null);
      logs(lr.ok && lb.lines ? lb.lines : []);
    }
  } catch (err) { /* the next tick tries again */ }
  loading = false;
  if (again) { again = false; loadProcess(); }
}
function processSoon() { if (!procTimer) procTimer = setTimeout(() => { procTimer = null; loadProcess(); }, 150); }
async function act(what) {
  const r = rows.get(selected);
  if (!r) return;
  const msg = document.getElementById("msg");
  msg.textContent = what + "...";
  const res = await fetch("/api/" + what + "?path=" + encodeURIComponent(r.path),
                          { method: "POST", headers: Object.assign({ "X-Vigil-Action": "1" }, headers) });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) note = body.error || String(res.status);
  else if (what === "kill") note = "killed " + body.killed;
  else note = { restart: "restarted", stop: "stopped", start: "started" }[what] + (body.pid ? " " + body.pid : "");
  const m = document.getElementById("msg");
  if (m) m.textContent = note;
  processSoon();
}

// ---- the restart chart (uPlot, bundled into vigild: no network) ---------------------------
// Exits the supervisors reported, in 10 s buckets over the last 10 minutes, counted from the
// pushed events as they come: one increment per event, one redraw per second.
const BUCKET = 10000, BUCKETS = 60;
const restartCounts = new Array(BUCKETS).fill(0);
let bucketAt = Math.floor(Date.now() / BUCKET), chart = null;
function rollBuckets() {
  const now = Math.floor(Date.now() / BUCKET);
  for (; bucketAt < now; ++bucketAt) { restartCounts.shift(); restartCounts.push(0); }
}
function countExit() { rollBuckets(); restartCounts[BUCKETS - 1]++; }
function chartData() {
  const xs = restartCounts.map((_, i) => (bucketAt - BUCKETS + 1 + i) * BUCKET / 1000);
  return [xs, restartCounts.slice()];
}
function startChart() {
  const box = document.getElementById("chart");
  const width = () => Math.max(300, box.clientWidth);
  chart = new uPlot({
    width: width(), height: 130, legend: { show: false }, cursor: { show: false },
    scales: { y: { range: (u, min, max) => [0, Math.max(5, max)] } },
    axes: [{ stroke: "#7d8a97", grid: { stroke: "#26303b" }, ticks: { stroke: "#26303b" }, size: 28,
             values: (u, vals) => vals.map(v => new Date(v * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })) },
           { stroke: "#7d8a97", grid: { stroke: "#26303b" }, ticks: { stroke: "#26303b" }, size: 40 }],
    series: [{}, { label: "restarts", stroke: "#d29922", fill: "rgba(210,153,34,0.18)", width: 1.5,
                   paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } }],
  }, chartData(), box);
  window.addEventListener("resize", () => chart.setSize({ width: width(), height: 130 }));
}
function loadBundle() {
  const css = document.createElement("link");
  css.rel = "stylesheet"; css.href = "/vendor/uplot.css" + q;
  const js = document.createElement("script");
  js.src = "/vendor/uplot.js" + q;
  js.onload = startChart;
  document.head.append(css, js);
}

// ---- pushed events and the clock --------------------------------------------------------
const es = new EventSource("/api/events" + q);
const conn = document.getElementById("conn");
// The tree is fetched once the stream is open (and again on each reconnect): no event falls
// between the two, and a page load costs the daemon one walk of its index, not two.
let opened_once = false;
es.onopen = () => { opened_once = true; conn.className = "live"; conn.textContent = "live"; reconcileSoon(true); };
es.onerror = () => {
  conn.className = "down"; conn.textContent = "reconnecting";
  if (!opened_once && !rows.size) refresh(); // shows why (a refused token), or the tree
};
es.onmessage = (m) => { try { onEvent(JSON.parse(m.data)); } catch (err) { /* not an event */ } };
// Uptimes tick on the drawn nodes only; the process page refreshes while it is open.
setInterval(() => {
  for (const [path, d] of nodes) { const r = rows.get(path); if (r && r.since != null) d.meta.textContent = metaText(r); }
  if (selected) summary();
  if (chart) { rollBuckets(); chart.setData(chartData()); }
}, 1000);
loadBundle();
setInterval(() => { if (selected) loadProcess(); }, 2000);
</script></body></html>
)html";

} // namespace

std::string_view observer_page() {
  return page;
}

} // namespace vigil::observer
