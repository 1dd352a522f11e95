/**
 * One watch check of one host over a connection the watcher holds: the same single probe
 * exec as `provision check` (the engine's fact requests, probe script, parser and diff),
 * plus one builtin-only lock test in the same script, so a host being applied right now
 * shows as `locked` instead of as a half-done drift.
 *
 * Diffs of drifted files need their old contents. Fetching every managed file's content on
 * every cycle would send whole files each interval, so the probe runs without contents and,
 * only when the drift is new (its fingerprint differs from the last check's), ONE more exec
 * re-probes the drifted steps with contents: the round trip `check --diff` is allowed.
 */
import { diffAll, factRequests, newNonce } from '../engine/host-run.js';
import { pendingDir } from '../engine/apply-script.js';
import type { HostJob } from '../engine/types.js';
import { parseProbe, planProbe, probeScript } from '../resources/facts/index.js';
import { joinSh, sh, type Sh } from '../resources/sh.js';
import type { Change, FactRequest, Facts } from '../resources/types.js';
import type { Connection } from '../transport/connection.js';
import { renderChange } from '../report/diff-render.js';
import type { Redactor } from '../report/redact.js';
import type { DriftedStep, HostCheck } from './types.js';

const LOCK_FACT = 'provision-watch-lock';

/**
 * Exit 0 when an apply holds the lock now: the lock file names a `remote_pid` that still
 * runs (an apply empties the file when it ends). Shell builtins only: no process on the
 * normal path, and it never takes the lock itself (that would make a real apply fail).
 */
export function lockTestScript(lockFile: string): Sh {
  return joinSh([
    sh`_h=; read -r _h < ${lockFile} 2>/dev/null; [ -n "$_h" ] || exit 1`,
    sh`case " $_h" in *" remote_pid="*) ;; *) exit 1 ;; esac`,
    sh`_p=\${_h##* remote_pid=}; _p=\${_p%% *}`,
    sh`case $_p in ''|*[!0-9]*) exit 1 ;; esac`,
    sh`[ -d "/proc/$_p" ]`,
  ]);
}

function firstLine(text: string): string {
  return text.trim().split('\n').find((l) => l.trim()) ?? '';
}

/**
 * What makes two drifts the same drift: which steps, why, and every fact the probe saw
 * for those steps (a file's hash changes when its content does, even if the reason and
 * the attributes stay the same).
 */
export function driftFingerprint(job: HostJob, facts: Facts, changes: Change[], pending: string[]): string {
  const steps = new Map(job.steps.map((s) => [s.index, s]));
  const observed = changes.map((c) => {
    const s = steps.get(c.step);
    const seen = (s?.type.facts(s.spec) ?? []).map((r) => {
      if (r.kind === 'aptLists') return facts.aptListsAge;
      const key = r.kind === 'shell' ? r.id : 'path' in r ? r.path : r.name;
      return (facts[r.kind] as Map<string, unknown>).get(key) ?? null;
    });
    return [c.step, c.id, c.reason, c.attrs, seen];
  });
  return JSON.stringify([observed, pending]);
}

export interface ProbeContext {
  job: HostJob;
  conn: Connection;
  /** Masks secrets in the diffs (the report's own diff rendering, uncoloured). */
  redactor: Redactor;
  signal?: AbortSignal;
  /** The last check of this host: its drift fingerprint and diffs are reused when unchanged. */
  previous?: HostCheck | undefined;
}

interface ProbeOnce {
  changes: Change[];
  fingerprint?: string;
  pending: string[];
  locked: boolean;
  lost: boolean;
  error?: string;
}

async function probeOnce(ctx: ProbeContext, requests: FactRequest[], withContent: boolean): Promise<ProbeOnce> {
  const { job, conn } = ctx;
  const plan = planProbe(requests);
  const nonce = newNonce();
  const res = await conn.exec(probeScript(plan, nonce).text, { sudo: job.sudo, ...(ctx.signal ? { signal: ctx.signal } : {}) });
  if (res.connectionLost) return { changes: [], pending: [], locked: false, lost: true, error: 'connection lost during the probe' };
  try {
    const facts = parseProbe(plan, res.stdout, nonce);
    const pending = (facts.pending.get(pendingDir(job.lockFile)) ?? []).filter((n) => job.handlers.has(n));
    const locked = facts.shell.get(LOCK_FACT)?.exitCode === 0;
    const changes = diffAll(job, facts, withContent);
    return { changes, pending, locked, lost: false, fingerprint: driftFingerprint(job, facts, changes, pending) };
  } catch (e) {
    const why = firstLine(res.stderr) || (e as Error).message;
    return { changes: [], pending: [], locked: false, lost: false, error: `probe failed (exit ${res.exitCode}): ${why}` };
  }
}

function drifted(job: HostJob, changes: Change[], redactor: Redactor): DriftedStep[] {
  const steps = new Map(job.steps.map((s) => [s.index, s]));
  return changes.map((c) => {
    const s = steps.get(c.step);
    return redactor.redactDeep({ index: c.step, name: s?.name ?? c.id, where: s?.where ?? '', id: c.id, action: c.action, reason: c.reason, diff: renderChange(c, redactor, false) });
  });
}

/** The old contents of the drifted files: one more exec, only for the drifted steps. */
async function withDiffs(ctx: ProbeContext, changes: Change[]): Promise<Change[]> {
  const stepSet = new Set(changes.map((c) => c.step));
  const subset: HostJob = { ...ctx.job, steps: ctx.job.steps.filter((s) => stepSet.has(s.index)) };
  const again = await probeOnce({ ...ctx, job: subset }, factRequests(subset, true), true);
  return again.error || again.lost ? changes : again.changes;
}

/**
 * Never throws: a lost connection is `lost: true` (the watcher reconnects), a broken probe
 * is an `error` check. `execs` counts the round trips this check cost.
 */
export async function probeHost(ctx: ProbeContext): Promise<{ check: HostCheck; lost: boolean }> {
  const started = Date.now();
  const { job } = ctx;
  const requests: FactRequest[] = [...factRequests(job, false), { kind: 'shell', id: LOCK_FACT, script: lockTestScript(job.lockFile) }];
  let execs = 1;
  const base = (): Pick<HostCheck, 'host' | 'checkedAt' | 'durationMs' | 'execs'> => ({ host: job.name, checkedAt: new Date(started).toISOString(), durationMs: Date.now() - started, execs });
  let once: ProbeOnce;
  try {
    once = await probeOnce(ctx, requests, false);
  } catch (e) {
    return { check: { ...base(), status: 'error', steps: [], pendingHandlers: [], error: (e as Error).message }, lost: false };
  }
  if (once.lost) return { check: { ...base(), status: 'unreachable', steps: [], pendingHandlers: [], error: once.error! }, lost: true };
  if (once.error) return { check: { ...base(), status: 'error', steps: [], pendingHandlers: [], error: once.error }, lost: false };
  if (once.locked) return { check: { ...base(), status: 'locked', steps: [], pendingHandlers: [], error: 'an apply holds the lock on this host' }, lost: false };
  if (!once.changes.length && !once.pending.length) return { check: { ...base(), status: 'in-sync', steps: [], pendingHandlers: [] }, lost: false };
  const fingerprint = once.fingerprint!;
  let steps: DriftedStep[];
  if (ctx.previous?.status === 'drift' && ctx.previous.fingerprint === fingerprint) {
    steps = ctx.previous.steps; // same drift as last time: its diffs still hold
  } else {
    const needsContent = once.changes.some((c) => c.content && c.content.before === undefined && !c.content.binary);
    execs += needsContent ? 1 : 0;
    steps = drifted(job, needsContent ? await withDiffs(ctx, once.changes) : once.changes, ctx.redactor);
  }
  return { check: { ...base(), status: 'drift', steps, pendingHandlers: once.pending, fingerprint }, lost: false };
}
