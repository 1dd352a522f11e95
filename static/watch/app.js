// The fleet page: a snapshot over server-sent events, then one event per host check.
// Everything is written with textContent: host names and diffs are data, never markup.
'use strict';

const token = new URLSearchParams(location.search).get('token');
const query = token ? `?token=${encodeURIComponent(token)}` : '';
const hosts = new Map();
const rows = new Map();
const ORDER = ['drift', 'unreachable', 'error', 'locked', 'pending', 'in-sync'];

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

function diffBlock(text) {
  const pre = el('pre', 'diff');
  for (const line of text.split('\n')) {
    const t = line.trimStart();
    const cls = t.startsWith('@@') ? 'hunk' : t.startsWith('+') ? 'add' : t.startsWith('-') ? 'del' : '';
    pre.append(el('span', cls, line + '\n'));
  }
  return pre;
}

function detailCell(v) {
  const td = el('td');
  td.colSpan = 5;
  const last = v.last;
  if (last?.error) td.append(el('div', 'error', last.error));
  if (v.retryAt) td.append(el('div', 'retry', `next connect attempt ${new Date(v.retryAt).toLocaleTimeString()}`));
  for (const s of last?.steps ?? []) {
    const d = el('div', 'step');
    d.append(el('strong', 'name', s.name), el('span', 'where', s.where), el('div', 'reason', `${s.action}: ${s.reason}`));
    if (s.diff) d.append(diffBlock(s.diff));
    td.append(d);
  }
  if (last?.pendingHandlers?.length) td.append(el('div', 'pending', `handlers still pending: ${last.pendingHandlers.join(', ')}`));
  return td;
}

// One canvas per host, not one element per check: 500 hosts x 60 checks stay cheap to draw.
const COLORS = { 'in-sync': '#4caf50', drift: '#f0b400', unreachable: '#d93025', locked: '#5b7fd6', error: '#b0279c', repaired: '#1a9bb0', 'repair-failed': '#7a0f08' };
const CELL = 8;

function describe(h) {
  return `${new Date(h.t).toLocaleString()}: ${h.status}${h.steps ? ` (${h.steps} steps)` : ''}${h.error ? `: ${h.error}` : ''}`;
}

function strip(history) {
  const c = el('canvas', 'strip');
  c.width = Math.max(1, history.length) * CELL;
  c.height = 16;
  c.dataset.statuses = history.map((h) => h.status).join(' ');
  const g = c.getContext('2d');
  history.forEach((h, i) => {
    g.fillStyle = COLORS[h.status] ?? '#999';
    g.fillRect(i * CELL, 0, CELL - 2, 16);
  });
  c.addEventListener('mousemove', (e) => {
    const h = history[Math.floor(e.offsetX / CELL)];
    c.title = h ? describe(h) : '';
  });
  return c;
}

function renderHost(v) {
  let r = rows.get(v.host);
  if (!r) {
    r = { main: el('tr', 'host'), detail: el('tr', 'detail') };
    r.main.dataset.host = v.host;
    r.detail.dataset.detailOf = v.host;
    rows.set(v.host, r);
    document.getElementById('hosts').append(r.main, r.detail);
  }
  r.main.dataset.status = v.status;
  const last = v.last;
  const when = el('td', 'when', last ? ago(last.checkedAt) : 'not yet');
  if (last) {
    when.title = last.checkedAt;
    when.dataset.checkedAt = last.checkedAt;
  }
  const status = el('span', `status s-${v.status}`, v.status);
  const statusCell = el('td');
  statusCell.append(status);
  const hist = el('td');
  hist.append(strip(v.history));
  r.main.replaceChildren(el('td', 'host', v.host), statusCell, when, el('td', 'took', last ? `${last.durationMs} ms` : ''), hist);
  const hasDetail = Boolean(last?.error || last?.steps?.length || last?.pendingHandlers?.length);
  r.detail.hidden = !hasDetail;
  r.detail.replaceChildren(hasDetail ? detailCell(v) : el('td'));
}

function renderSummary(cycle) {
  const counts = {};
  for (const v of hosts.values()) counts[v.status] = (counts[v.status] ?? 0) + 1;
  const parts = ORDER.filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`);
  const c = cycle ? ` · last cycle ${cycle.durationMs} ms` : '';
  document.getElementById('summary').textContent = `${hosts.size} hosts: ${parts.join(', ')}${c}`;
}

let lastCycle = null;
const events = new EventSource(`/events${query}`);
events.addEventListener('snapshot', (e) => {
  const d = JSON.parse(e.data);
  document.getElementById('hosts').replaceChildren();
  rows.clear();
  hosts.clear();
  lastCycle = d.cycle;
  for (const v of d.hosts) {
    hosts.set(v.host, v);
    renderHost(v);
  }
  renderSummary(lastCycle);
  document.getElementById('link').hidden = true;
});
events.addEventListener('host', (e) => {
  const v = JSON.parse(e.data);
  hosts.set(v.host, v);
  renderHost(v);
  renderSummary(lastCycle);
});
events.addEventListener('cycle', (e) => {
  lastCycle = JSON.parse(e.data);
  renderSummary(lastCycle);
});
events.addEventListener('error', () => {
  document.getElementById('link').hidden = false;
});
setInterval(() => {
  for (const td of document.querySelectorAll('td.when[data-checked-at]')) td.textContent = ago(td.dataset.checkedAt);
}, 5000);
