/**
 * Declared servers vs what HAProxy runs and what its state file would restore. Pure.
 *
 * The runtime side yields admin-socket commands (address/port, weight, state: no reload)
 * or, for what the socket cannot do here (a missing backend or server, an undeclared
 * server, a server-template slot count), a reload. The state-file side applies HAProxy
 * 2.6's own loading rules (src/server_state.c, see docs/haproxy-server-state.md) to tell
 * whether the next reload or restart would bring back something the inventory no longer
 * says, e.g. the old port of a server whose name did not change.
 */
import type { AttrDiff } from '../types.js';
import { configured, isIpLiteral, type Declared, type DeclaredServer } from './declared.js';
import { ADMF, adminLabel, type AdminLabel, type ServerState } from './server-state.js';

/** The part of a server the diff compares: where it sends traffic and how much. */
export interface ServerView {
  addr: string;
  fqdn: string;
  port: number;
  weight: number;
  label: AdminLabel;
}

export interface RuntimeDiff {
  attrs: AttrDiff[];
  /** Human lines ("bk_app/a runs 10.0.0.1:8080, declared 10.0.0.1:8090"). */
  notes: string[];
  /** Admin-socket commands, in order. */
  commands: string[];
  /** Why a reload is needed; empty when the socket can repair everything. */
  reload: string[];
}

const key = (backend: string, server: string) => `${backend}/${server}`;

function viewOf(r: ServerState): ServerView {
  return { addr: r.addr, fqdn: r.fqdn, port: r.port, weight: r.uweight, label: adminLabel(r.admin) };
}

/** Where the server sends traffic, as the inventory writes it. */
function target(v: ServerView, d: DeclaredServer): string {
  return `${isIpLiteral(d.address) ? v.addr : v.fqdn}:${v.port}`;
}

export function describeView(v: ServerView, d: DeclaredServer): string {
  return `${target(v, d)} weight ${v.weight} ${v.label}`;
}

export function describeDeclared(d: DeclaredServer): string {
  return `${d.address}:${d.port} weight ${d.weight} ${d.state}`;
}

/** The differences of one server, as short phrases, and the commands that repair them. */
export function compareServer(v: ServerView, d: DeclaredServer): { phrases: string[]; commands: string[]; reload: boolean } {
  const id = key(d.backend, d.name);
  const phrases: string[] = [];
  const commands: string[] = [];
  let reload = false;
  const here = target(v, d);
  if (here !== `${d.address}:${d.port}`) {
    phrases.push(`runs ${here}, declared ${d.address}:${d.port}`);
    if (isIpLiteral(d.address)) commands.push(`set server ${id} addr ${d.address} port ${d.port}`);
    else reload = true;
  }
  if (v.weight !== d.weight) {
    phrases.push(`weight ${v.weight}, declared ${d.weight}`);
    commands.push(`set server ${id} weight ${d.weight}`);
  }
  if (v.label !== d.state) {
    phrases.push(`${v.label.toUpperCase()}, declared ${d.state}`);
    commands.push(`set server ${id} state ${d.state}`);
  }
  return { phrases, commands, reload };
}

export function diffRuntime(decl: Declared, running: { servers: ServerState[]; backends: string[] }): RuntimeDiff {
  const out: RuntimeDiff = { attrs: [], notes: [], commands: [], reload: [] };
  const loaded = new Set(running.backends);
  for (const b of decl.backends) {
    if (loaded.has(b)) continue;
    out.notes.push(`backend ${b} is not loaded (reload pending)`);
    out.attrs.push({ field: `backend ${b}`, before: null, after: 'loaded' });
    out.reload.push(`backend ${b} not loaded`);
  }
  const byKey = new Map(running.servers.map((r) => [key(r.backend, r.server), r]));
  for (const d of decl.servers) {
    if (!loaded.has(d.backend)) continue;
    const r = byKey.get(key(d.backend, d.name));
    if (!r) {
      out.notes.push(`${key(d.backend, d.name)} is not running (reload pending)`);
      out.attrs.push({ field: key(d.backend, d.name), before: null, after: describeDeclared(d) });
      out.reload.push(`server ${key(d.backend, d.name)} missing`);
      continue;
    }
    const c = compareServer(viewOf(r), d);
    if (!c.phrases.length) continue;
    out.notes.push(`${key(d.backend, d.name)} ${c.phrases.join('; ')}`);
    out.attrs.push({ field: key(d.backend, d.name), before: describeView(viewOf(r), d), after: describeDeclared(d) });
    out.commands.push(...c.commands);
    if (c.reload) out.reload.push(`server ${key(d.backend, d.name)} address`);
  }
  const declaredKeys = new Set(decl.servers.map((d) => key(d.backend, d.name)));
  for (const r of running.servers) {
    if (!decl.staticBackends.includes(r.backend) || declaredKeys.has(key(r.backend, r.server))) continue;
    out.notes.push(`${key(r.backend, r.server)} runs but is not declared (reload pending)`);
    out.attrs.push({ field: key(r.backend, r.server), before: `${r.addr}:${r.port}`, after: null });
    out.reload.push(`server ${key(r.backend, r.server)} undeclared`);
  }
  for (const t of decl.templates) {
    if (!loaded.has(t.backend)) continue;
    const slot = new RegExp(`^${t.prefix.replace(/[.]/g, '\\.')}\\d+$`);
    const n = running.servers.filter((r) => r.backend === t.backend && slot.test(r.server)).length;
    if (n === t.slots) continue;
    out.notes.push(`${t.backend} runs ${n} ${t.prefix} slots, declared ${t.slots} (reload pending)`);
    out.attrs.push({ field: `${t.backend} slots`, before: String(n), after: String(t.slots) });
    out.reload.push(`${t.backend} slot count`);
  }
  return out;
}

/**
 * What a reload or restart would make of a declared server from its saved line (HAProxy
 * 2.6 apply rules, src/server_state.c), with haproxy.cfg as declared (`configured`): the
 * saved port always wins over the configuration's; the saved address is reused (init-addr
 * last) for a server given by host name; `disabled` added or removed in the configuration
 * wins, otherwise a saved forced MAINT comes back; a saved forced DRAIN comes back unless
 * it only came from a configured weight 0 that is now > 0; the saved running weight comes
 * back only while the configured weight is the one it was saved with.
 */
export function restoredView(saved: ServerState, d: DeclaredServer): ServerView {
  const cfg = configured(d);
  const cmaintChanged = Boolean(saved.admin & ADMF.CMAINT) !== cfg.disabled;
  const maint = cmaintChanged ? cfg.disabled : Boolean(saved.admin & ADMF.FMAINT);
  const drain = !maint && Boolean(saved.admin & ADMF.FDRAIN) && (saved.iweight > 0 || cfg.weight === 0);
  const weight = saved.iweight === cfg.weight ? saved.uweight : cfg.weight;
  const label: AdminLabel = maint ? 'maint' : drain ? 'drain' : 'ready';
  const addr = isIpLiteral(d.address) ? d.address : saved.addr;
  return { addr, fqdn: isIpLiteral(d.address) ? '-' : saved.fqdn === '-' ? d.address : saved.fqdn, port: saved.port, weight, label };
}

export interface StateFileDiff {
  attrs: AttrDiff[];
  notes: string[];
  /** Saved lines to remove (backend, server) when HAProxy is not running to re-save them. */
  stale: [string, string][];
}

export function diffStateFile(decl: Declared, saved: ServerState[], stateFile: string): StateFileDiff {
  const out: StateFileDiff = { attrs: [], notes: [], stale: [] };
  const byKey = new Map(saved.map((s) => [key(s.backend, s.server), s]));
  for (const d of decl.servers) {
    const s = byKey.get(key(d.backend, d.name));
    if (!s) continue;
    const v = restoredView(s, d);
    const c = compareServer(v, d);
    if (!c.phrases.length) continue;
    out.notes.push(`${stateFile}: the next reload or restart would give ${key(d.backend, d.name)} ${c.phrases.map((p) => p.replace(/^runs /, '')).join('; ')}`);
    out.attrs.push({ field: `${stateFile} ${key(d.backend, d.name)}`, before: describeView(v, d), after: describeDeclared(d) });
    out.stale.push([d.backend, d.name]);
  }
  return out;
}
