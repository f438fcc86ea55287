// SPDX-License-Identifier: Apache-2.0
// The observer's page (page.hpp). Plain HTML, CSS and JavaScript, no framework: it draws the
// tree from /api/tree, redraws it when /api/events pushes an event (a killed child turns
// red, then green with its new pid, without a reload), shows a child's details and restart
// history when clicked, and has a kill button (POST /api/kill). A token given in the page's
// URL (?token=...) is passed on to the API.
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
main { display:grid; grid-template-columns: minmax(420px, 1.3fr) 1fr; gap:0; height:calc(100vh - 45px); }
#tree { overflow:auto; padding:12px 18px; border-right:1px solid var(--line); }
#detail { overflow:auto; padding:14px 18px; background:var(--panel); }
ul { list-style:none; margin:0; padding-left:18px; border-left:1px dashed var(--line); }
#tree > ul { border:0; padding-left:0; }
li { margin:2px 0; }
.node { display:flex; align-items:center; gap:10px; padding:4px 8px; border-radius:6px; cursor:pointer; }
.node:hover, .node.sel { background:#1f2731; }
.dot { width:10px; height:10px; border-radius:50%; flex:none; background:var(--dim); }
.running .dot { background:var(--run); }
.restarting .dot, .backoff .dot { background:var(--warn); }
.failed .dot, .stopped .dot { background:var(--bad); }
.id { font-weight:600; }
.supervisor > .node .id { color:var(--sup); }
.meta { color:var(--dim); font-size:12px; font-variant-numeric: tabular-nums; }
.badge { font-size:11px; padding:0 6px; border-radius:8px; border:1px solid var(--line); color:var(--dim); }
.flash { animation: flash 1.2s ease-out; }
@keyframes flash { from { background:#4a1c1c; } to { background:transparent; } }
table { border-collapse:collapse; width:100%; margin:8px 0 14px; }
td, th { text-align:left; padding:3px 8px 3px 0; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--dim); font-weight:500; width:38%; }
h2 { font-size:15px; margin:0 0 6px; } h3 { font-size:13px; color:var(--dim); margin:14px 0 4px; }
button { background:#21262d; color:var(--text); border:1px solid var(--line); border-radius:6px;
         padding:5px 14px; cursor:pointer; font:inherit; }
button.danger { border-color:#6e2b2b; color:#ffb4ae; }
button:hover { background:#2b323b; }
#msg { color:var(--warn); margin-left:8px; font-size:12px; }
.empty { color:var(--dim); }
</style></head>
<body>
<header><h1>vigil observer</h1><span id="conn">connecting</span><span id="count" class="meta"></span></header>
<main><section id="tree"><div class="empty">loading the tree...</div></section>
<section id="detail"><div class="empty">Click a process to see its details and restart history.</div></section></main>
<script>
"use strict";
const token = new URLSearchParams(location.search).get("token");
const q = token ? "?token=" + encodeURIComponent(token) : "";
const headers = token ? { "Authorization": "Bearer " + token } : {};
let rows = [], selected = null, lastPids = new Map(), pending = null, note = "";

function fmtUptime(ms) {
  if (ms == null) return "";
  const s = Math.floor(ms / 1000);
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m" + (s % 60) + "s";
  return Math.floor(s / 3600) + "h" + Math.floor((s % 3600) / 60) + "m";
}
function fmtKb(kb) { return kb == null ? "" : kb >= 1024 ? (kb / 1024).toFixed(1) + " MiB" : kb + " KiB"; }
function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }

function build() {
  const byParent = new Map();
  for (const r of rows) {
    const parent = r.path.slice(0, r.path.lastIndexOf("/"));
    if (!byParent.has(parent)) byParent.set(parent, []);
    byParent.get(parent).push(r);
  }
  function list(parent) {
    const ul = el("ul");
    for (const r of byParent.get(parent) || []) {
      const li = el("li", r.type + " " + r.state);
      li.dataset.path = r.path;
      const n = el("div", "node" + (r.path === selected ? " sel" : ""));
      n.append(el("span", "dot"), el("span", "id", r.id));
      n.append(el("span", "badge", r.kind));
      const meta = [r.state, r.pid || ""];
      if (r.os_pid) meta.push("os_pid " + r.os_pid, fmtKb(r.rss_kb));
      if (r.restarts) meta.push(r.restarts + " restart" + (r.restarts > 1 ? "s" : ""));
      if (r.uptime_ms != null) meta.push("up " + fmtUptime(r.uptime_ms));
      const m = el("span", "meta", meta.filter(Boolean).join(" \u00b7 "));
      m.dataset.role = "meta";
      n.append(m);
      const before = lastPids.get(r.path);
      if (before !== undefined && before !== r.pid) n.classList.add("flash");
      n.onclick = () => { selected = r.path; note = ""; render(); };
      li.append(n);
      if (r.type === "supervisor") li.append(list(r.path));
      ul.append(li);
    }
    return ul;
  }
  const t = document.getElementById("tree");
  t.replaceChildren(list("root"));
  lastPids = new Map(rows.map(r => [r.path, r.pid]));
  document.getElementById("count").textContent = rows.length + " children";
}

function detail() {
  const d = document.getElementById("detail");
  const r = rows.find(x => x.path === selected);
  if (!r) { d.replaceChildren(el("div", "empty", "Click a process to see its details and restart history.")); return; }
  const box = el("div");
  box.append(el("h2", null, r.path));
  const t = el("table");
  const fields = [["state", r.state], ["pid", r.pid || "-"], ["kind", r.kind], ["type", r.type],
    ["restarts", r.restarts], ["uptime", fmtUptime(r.uptime_ms) || "-"],
    ["last exit", r.last_exit_reason || "-"]];
  if (r.os_child) fields.push(["os_pid", r.os_pid || "-"], ["rss", fmtKb(r.rss_kb) || "-"],
                              ["cpu", r.cpu_ms == null ? "-" : (r.cpu_ms / 1000).toFixed(2) + " s"]);
  for (const [k, v] of fields) { const tr = el("tr"); tr.append(el("th", null, k), el("td", null, String(v))); t.append(tr); }
  box.append(t);
  const kill = el("button", "danger", "Kill");
  kill.id = "kill";
  kill.disabled = !r.pid;
  kill.onclick = async () => {
    const res = await fetch("/api/kill?path=" + encodeURIComponent(r.path),
                            { method: "POST", headers: Object.assign({ "X-Vigil-Action": "1" }, headers) });
    const body = await res.json().catch(() => ({}));
    note = res.ok ? "killed " + body.killed : (body.error || String(res.status));
    document.getElementById("msg").textContent = note;
  };
  const msg = el("span", null, note); msg.id = "msg";
  box.append(kill, msg);
  box.append(el("h3", null, "Restart history (newest last)"));
  if (!r.history.length) box.append(el("div", "empty", "no exits yet"));
  else {
    const h = el("table");
    for (const e of r.history) { const tr = el("tr"); tr.append(el("th", null, fmtUptime(e.ago_ms) + " ago"), el("td", null, e.reason + " \u2192 " + e.decision)); h.append(tr); }
    box.append(h);
  }
  d.replaceChildren(box);
}

function render() { build(); detail(); }

async function refresh() {
  pending = null;
  const res = await fetch("/api/tree" + q, { headers });
  if (!res.ok) { document.getElementById("tree").replaceChildren(el("div", "empty", "refused: " + res.status)); return; }
  rows = (await res.json()).children;
  render();
}
function soon() { if (!pending) pending = setTimeout(refresh, 50); }

const es = new EventSource("/api/events" + q);
const conn = document.getElementById("conn");
es.onopen = () => { conn.className = "live"; conn.textContent = "live"; soon(); };
es.onerror = () => { conn.className = "down"; conn.textContent = "reconnecting"; };
es.onmessage = soon;
setInterval(() => { for (const r of rows) if (r.uptime_ms != null) r.uptime_ms += 1000; render(); }, 1000);
refresh();
</script></body></html>
)html";

} // namespace

std::string_view observer_page() {
  return page;
}

} // namespace vigil::observer
