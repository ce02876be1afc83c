#include "gateway/admin/status_page.hpp"

namespace ussdpay::admin {

namespace {

// Element ids are the page's contract with its test (tests/integration/admin/status_page.sh):
// link-<name>, live-dialogs, outbox-depth, open-<STATE>, hour-<event>, stuck (rows data-ref),
// updated; body[data-state] is "loading", "ok" or "error".
constexpr std::string_view page = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ussdpay status</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1b1b1b; background: #fafafa; }
  h1 { font-size: 1.3rem; margin: 0 0 .2rem; }
  h2 { font-size: 1rem; margin: 1.4rem 0 .4rem; }
  .grid { display: flex; flex-wrap: wrap; gap: .8rem; }
  .card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: .6rem .9rem; min-width: 9rem; }
  .card .n { font-size: 1.8rem; font-variant-numeric: tabular-nums; }
  table { border-collapse: collapse; background: #fff; }
  td, th { border: 1px solid #ddd; padding: .25rem .6rem; text-align: left; font-variant-numeric: tabular-nums; }
  .bound { color: #0a6b2d; font-weight: 600; }
  .down { color: #a40e0e; font-weight: 600; }
  .warn { background: #fff4d6; }
  #error { color: #a40e0e; }
  #token-form { margin: .6rem 0; }
</style>
</head>
<body data-state="loading">
<h1>ussdpay status</h1>
<p>Updated <span id="updated">never</span>; refreshes every 5 s. <span id="error"></span></p>
<form id="token-form" hidden>
  <label>Admin token <input id="token" type="password" autocomplete="off" size="40"></label>
  <button>Show</button>
</form>

<h2>SMSC binds</h2>
<table><thead><tr><th>Bind</th><th>State</th></tr></thead><tbody id="links"></tbody></table>

<h2>Now</h2>
<div class="grid">
  <div class="card">Live dialogs<div class="n" id="live-dialogs">-</div></div>
  <div class="card">SMS queued<div class="n" id="outbox-depth">-</div></div>
  <div class="card">Payments created<div class="n" id="open-CREATED">-</div></div>
  <div class="card">Outcome unknown<div class="n" id="open-UNKNOWN">-</div></div>
  <div class="card">Manual review<div class="n" id="open-MANUAL_REVIEW">-</div></div>
</div>

<h2>Payments in the last hour</h2>
<table><tbody>
  <tr><th>Created</th><td id="hour-created">-</td></tr>
  <tr><th>Paid</th><td id="hour-committed">-</td></tr>
  <tr><th>Failed</th><td id="hour-failed">-</td></tr>
  <tr><th>Unknown at the biller</th><td id="hour-unknown">-</td></tr>
  <tr><th>Sent to manual review</th><td id="hour-manual_review">-</td></tr>
  <tr><th>Reversed</th><td id="hour-reversed">-</td></tr>
</tbody></table>

<h2>Stuck payments (unknown or in manual review, oldest first)</h2>
<table><thead><tr><th>Reference</th><th>State</th><th>Biller</th><th>Amount</th><th>Age</th><th>Why</th></tr></thead>
<tbody id="stuck"></tbody></table>

<script>
"use strict";
const fragment = new URLSearchParams(location.hash.slice(1));
let token = fragment.get("token") || sessionStorage.getItem("ussdpay-admin-token") || "";
if (fragment.has("token")) history.replaceState(null, "", location.pathname);
if (token) sessionStorage.setItem("ussdpay-admin-token", token);

function text(id, value) { const e = document.getElementById(id); if (e) e.textContent = String(value); }
function cell(row, value, cls) {
  const td = row.insertCell(); td.textContent = String(value); if (cls) td.className = cls; return td;
}
function age(s) {
  if (s < 120) return s + " s";
  if (s < 7200) return Math.floor(s / 60) + " min";
  return Math.floor(s / 3600) + " h";
}
function money(minor, currency) { return currency + " " + (minor / 100).toFixed(2); }

function render(s) {
  const links = document.getElementById("links");
  links.replaceChildren();
  for (const l of s.links) {
    const row = links.insertRow();
    cell(row, l.name);
    cell(row, l.state, l.state === "bound" ? "bound" : "down").id = "link-" + l.name;
  }
  text("live-dialogs", s.live_dialogs);
  text("outbox-depth", s.outbox_depth);
  for (const [state, n] of Object.entries(s.open)) {
    text("open-" + state, n);
    const e = document.getElementById("open-" + state);
    if (e) e.parentElement.classList.toggle("warn", state !== "CREATED" && n > 0);
  }
  for (const [event, n] of Object.entries(s.last_hour)) text("hour-" + event, n);
  const stuck = document.getElementById("stuck");
  stuck.replaceChildren();
  if (s.stuck.length === 0) {
    const row = stuck.insertRow();
    const td = cell(row, "none");
    td.colSpan = 6;
  }
  for (const p of s.stuck) {
    const row = stuck.insertRow();
    row.dataset.ref = p.ref;
    cell(row, p.ref); cell(row, p.state); cell(row, p.biller);
    cell(row, money(p.amount, p.currency)); cell(row, age(p.age_s)); cell(row, p.reason);
  }
  text("updated", new Date(s.time).toLocaleTimeString());
}

async function refresh() {
  if (!token) {
    document.getElementById("token-form").hidden = false;
    document.body.dataset.state = "error";
    text("error", "Give the admin token to see the status.");
    return;
  }
  try {
    const r = await fetch("/api/status", { headers: { Authorization: "Bearer " + token }, cache: "no-store" });
    if (!r.ok) throw new Error("the API answered " + r.status);
    render(await r.json());
    text("error", "");
    document.body.dataset.state = "ok";
  } catch (e) {
    text("error", "Not updated: " + e.message);
    document.body.dataset.state = "error";
    if (String(e.message).includes("401")) document.getElementById("token-form").hidden = false;
  }
}

document.getElementById("token-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  token = document.getElementById("token").value.trim();
  sessionStorage.setItem("ussdpay-admin-token", token);
  document.getElementById("token-form").hidden = true;
  refresh();
});
refresh();
setInterval(refresh, 5000);
</script>
</body>
</html>
)html";

}  // namespace

std::string_view status_page() {
  return page;
}

}  // namespace ussdpay::admin
