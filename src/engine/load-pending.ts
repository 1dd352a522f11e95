/**
 * "Restart pending" / "reload pending" for every service a playbook manages: a file that
 * notifies a service's handler changed after the running process loaded it (a hand edit
 * put back without a restart, a handler that never ran, a reload that failed). Pure.
 *
 * Which files belong to which unit comes from the playbook itself: a step that installs a
 * file (it probes the file's stat and its content) and notifies a `service` handler ties
 * that file to the handler's unit, with the handler's verb (`restarted` or `reloaded`).
 * When the unit loaded its files comes from systemd, in the probe's one `systemctl show`
 * (docs/restart-pending.md): ExecMainStartTimestamp for a restart; for a reload, the last
 * state change of an active unit (a reload moves it, a start too) unless the last reload
 * failed (ReloadResult), then the start again. File times come from the probe's one `find`.
 *
 * The drift is a Change on the file's step; `apply` repairs it by running that step's
 * notified handlers (the step's fragment is `_changed` and nothing else: the file is in
 * sync). Units that are not active are left to their `service` step (a start loads the
 * current files). Units a step already judges itself (`loadWatched`, e.g. haproxy_servers
 * through HAProxy's master CLI) are skipped.
 */
import { unitName } from '../resources/service.js';
import type { UnitState } from '../resources/facts/types.js';
import type { Change, FactRequest, Facts, ResourceType } from '../resources/types.js';
import { sh } from '../resources/sh.js';
import type { HostJob, ResolvedHandler, ResolvedStep } from './types.js';

/** Whole-second times on both sides; a write within this many seconds of a load is not reported. */
export const SLACK_S = 2;

export interface Loader {
  handler: string;
  unit: string;
  verb: 'restart' | 'reload';
}

export interface LoadPendingData {
  loadPending: true;
  /** Set a daemon-reload before the handler: a unit file changed after systemd loaded it. */
  daemonReload: boolean;
}

const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

/** The unit and verb of a `service` handler that (re)loads it; null for anything else. */
export function handlerLoader(h: ResolvedHandler): Loader | null {
  if (h.kind !== 'service') return null;
  const spec = h.spec as { name: string; state?: string };
  if (spec.state === 'reloaded') return { handler: h.name, unit: unitName(spec.name), verb: 'reload' };
  if (spec.state === undefined || spec.state === 'restarted') return { handler: h.name, unit: unitName(spec.name), verb: 'restart' };
  return null;
}

/** Files a step installs: paths whose stat and content (hash or bytes) it probes. */
export function installedFiles(step: ResolvedStep): string[] {
  const facts = step.type.facts(step.spec);
  const stat = new Set(facts.flatMap((f) => (f.kind === 'stat' ? [f.path] : [])));
  return facts.flatMap((f) => ((f.kind === 'sha256' || f.kind === 'content') && stat.has(f.path) ? [f.path] : []));
}

function loaders(job: HostJob, step: ResolvedStep, watched: Set<string>): Loader[] {
  return step.notify.flatMap((n) => {
    const h = job.handlers.get(n);
    const l = h ? handlerLoader(h) : null;
    return l && !watched.has(l.unit) ? [l] : [];
  });
}

function watchedUnits(job: HostJob): Set<string> {
  return new Set(job.steps.flatMap((s) => s.type.loadWatched?.(s.spec) ?? []));
}

/** Unit facts the comparison needs (the probe's one `systemctl show` gets them). */
export function loadPendingRequests(job: HostJob): FactRequest[] {
  const watched = watchedUnits(job);
  return job.steps.flatMap((s) => (installedFiles(s).length ? loaders(job, s, watched) : []).map((l) => ({ kind: 'unit' as const, name: l.unit })));
}

/** When the unit loaded its files for this verb, and how to say it; null when not running. */
export function loadedAt(u: UnitState, verb: Loader['verb']): { at: number; said: string } | null {
  if (u.activeState !== 'active' || u.mainStart === undefined) return null;
  const name = u.id;
  if (verb === 'reload' && u.reloadResult && u.reloadResult !== 'success') {
    return { at: u.mainStart, said: `${name} started at ${iso(u.mainStart)} (its last reload failed: ${u.reloadResult})` };
  }
  if (verb === 'reload' && u.stateChange !== undefined && u.stateChange > u.mainStart) {
    return { at: u.stateChange, said: `${name} last reloaded at ${iso(u.stateChange)}` };
  }
  return { at: u.mainStart, said: `${name} started at ${iso(u.mainStart)}` };
}

function stepPending(job: HostJob, step: ResolvedStep, facts: Facts, watched: Set<string>): Change | null {
  const notes: string[] = [];
  const attrs: Change['attrs'] = [];
  const handlers = new Set<string>();
  let daemonReload = false;
  for (const l of loaders(job, step, watched)) {
    const u = facts.unit.get(l.unit);
    const loaded = u ? loadedAt(u, l.verb) : null;
    if (!loaded) continue;
    for (const f of installedFiles(step)) {
      const m = facts.stat.get(f)?.mtime;
      if (m === undefined || m <= loaded.at + SLACK_S) continue;
      notes.push(`${l.verb} pending: ${f} changed at ${iso(m)}, ${loaded.said}`);
      attrs.push({ field: `${l.unit} loaded ${f}`, before: iso(loaded.at), after: iso(m) });
      handlers.add(l.handler);
      if (f.startsWith('/etc/systemd/') || f.startsWith('/lib/systemd/')) daemonReload = true;
    }
  }
  if (!notes.length) return null;
  const data: LoadPendingData = { loadPending: true, daemonReload };
  const repair = [...handlers].map((h) => `"${h}"`).join(', ');
  return {
    step: step.index,
    kind: step.kind,
    id: step.type.id(step.spec),
    action: 'update',
    reason: `${[...new Set(notes)].join('; ')} (repair: handler ${repair})`,
    attrs,
    spec: step.spec,
    data,
  };
}

/** Load-pending changes of the steps that have no change of their own (those notify anyway). */
export function loadPendingChanges(job: HostJob, facts: Facts, changes: Change[]): Change[] {
  const changed = new Set(changes.map((c) => c.step));
  const watched = watchedUnits(job);
  return job.steps.flatMap((s) => {
    if (changed.has(s.index) || !s.notify.length) return [];
    const c = stepPending(job, s, facts, watched);
    return c ? [c] : [];
  });
}

/** The apply fragment of a load-pending change: notify the step's handlers, nothing else. */
const notifyOnly: Pick<ResourceType<unknown, unknown, LoadPendingData>, 'apply'> = {
  apply: (change) => (change.data?.daemonReload ? sh`_DR=1\n_changed` : sh`_changed`),
};

export function isLoadPending(change: Change): boolean {
  return (change.data as Partial<LoadPendingData> | undefined)?.loadPending === true;
}

/**
 * The job the apply script is built from: load-pending steps only notify their handlers
 * (out of their validation set too: they install nothing).
 */
export function withLoadPending(job: HostJob, changes: Change[]): HostJob {
  const pending = new Set(changes.filter(isLoadPending).map((c) => c.step));
  if (!pending.size) return job;
  return { ...job, steps: job.steps.map((s) => (pending.has(s.index) ? { ...s, type: { ...s.type, ...notifyOnly }, validateSet: undefined } : s)) };
}
