/**
 * One host, start to end: connect, ONE probe exec, local diff, and (apply with changes)
 * ONE apply exec. Never throws: every failure becomes a HostResult so one bad host never
 * stops the others.
 */
import { randomBytes } from 'node:crypto';
import { ProvisionError } from '../config/errors.js';
import { parseProbe, planProbe, probeScript } from '../resources/facts/index.js';
import type { Change, FactRequest } from '../resources/types.js';
import type { Connection } from '../transport/connection.js';
import { buildApplyScript, pendingDir } from './apply-script.js';
import { parseApplyOutput } from './apply-output.js';
import { streamApply } from './apply-stream.js';
import { splitScript, type SplitScript } from './apply-text.js';
import { applyVerdict, firstLine, type Outcome } from './apply-verdict.js';
import { loadPendingChanges, loadPendingRequests, withLoadPending } from './load-pending.js';
import { markLive } from './live-changes.js';
import { okReasons } from './ok-reasons.js';
import type { HostJob, HostResult, Reporter, RunOptions, StepOutcome } from './types.js';

export { brokeNote, lockMessage } from './apply-verdict.js';

export function newNonce(): string {
  return randomBytes(8).toString('hex');
}

/** Facts of every step, plus old contents of managed files when diffs are wanted. */
export function factRequests(job: HostJob, withContent: boolean): FactRequest[] {
  const reqs = [...job.steps.flatMap((s) => s.type.facts(s.spec)), ...loadPendingRequests(job)];
  if (job.handlers.size) reqs.push({ kind: 'pending', path: pendingDir(job.lockFile) });
  if (withContent) {
    for (const r of [...reqs]) if (r.kind === 'sha256') reqs.push({ kind: 'content', path: r.path });
  }
  return reqs;
}

/** Pure: all changes of a host from its facts. */
export function diffAll(job: HostJob, facts: ReturnType<typeof parseProbe>, withContent: boolean): Change[] {
  const changes: Change[] = [];
  for (const s of job.steps) {
    const c = s.type.diff(s.spec, facts, { step: s.index, withContent });
    if (c) changes.push(c);
  }
  // Files in sync that a running service loaded before their last change (restart pending).
  const all = [...changes, ...loadPendingChanges(job, facts, changes)].sort((a, b) => a.step - b.step);
  // File changes confined to lines a later step applies to the running service.
  return markLive(job, facts, all);
}

/** A host's run so far: what its phases share. */
interface HostRun {
  job: HostJob;
  opts: RunOptions;
  reporter: Reporter;
  started: number;
  execs: number;
}

function finish(run: HostRun, outcome: Outcome): HostResult {
  return { host: run.job.name, durationMs: Date.now() - run.started, execs: run.execs, ...outcome };
}

/** Phases: connect, probe (ONE exec), diff, then check stops or apply (ONE exec) runs. */
export async function runHost(job: HostJob, opts: RunOptions, reporter: Reporter): Promise<HostResult> {
  const run: HostRun = { job, opts, reporter, started: Date.now(), execs: 0 };
  let conn: Connection | undefined;
  reporter.hostStart(job.name);
  try {
    reporter.hostPhase(job.name, 'connect');
    try {
      conn = await job.connect();
    } catch (e) {
      const msg = e instanceof ProvisionError ? e.shortMessage : (e as Error).message;
      return finish(run, { status: 'unreachable', steps: [], handlers: [], error: msg, ...errorDetail(e) });
    }
    if (opts.signal?.aborted) return finish(run, { status: 'interrupted', steps: [], handlers: [], error: 'interrupted before the probe: nothing was changed' });
    const probed = await probeHost(run, conn);
    return finish(run, 'status' in probed ? probed : await planAndApply(run, conn, probed));
  } catch (e) {
    const msg = e instanceof ProvisionError ? e.shortMessage : (e as Error).message;
    return finish(run, { status: 'failed', steps: [], handlers: [], error: msg, ...errorDetail(e) });
  } finally {
    await conn?.close().catch(() => {});
  }
}

/** The long form of an error (ProvisionError.detail: the tool's own message), when it has one. */
function errorDetail(e: unknown): { detail?: string } {
  return e instanceof ProvisionError && e.detail ? { detail: e.detail } : {};
}

/** What the probe found: the changes to make and the handlers an earlier run left pending. */
interface Probed {
  nonce: string;
  stdout: string;
  changes: Change[];
  pending: string[];
  /** Why each step without a change is in sync (--verbose, --json). */
  reasons: Map<number, string>;
}

/** The probe phase: ONE exec, parsed and diffed; an outcome when the host stops here. */
async function probeHost(run: HostRun, conn: Connection): Promise<Probed | Outcome> {
  const { job, opts } = run;
  run.reporter.hostPhase(job.name, 'probe');
  const nonce = newNonce();
  const plan = planProbe(factRequests(job, opts.withContent));
  run.execs++;
  const probe = await conn.exec(probeScript(plan, nonce).text, { sudo: job.sudo, signal: opts.signal });
  // The probe only reads; an interrupted one is simply dropped.
  if (opts.signal?.aborted) return { status: 'interrupted', steps: [], handlers: [], error: 'interrupted before the apply: nothing was changed' };
  if (probe.connectionLost) return { status: 'failed', steps: [], handlers: [], error: 'connection lost during the probe; re-run to converge' };
  const refused = opts.planGuard?.onProbe(job, probe.stdout, nonce);
  if (refused) return { status: 'failed', steps: [], handlers: [], error: refused };
  try {
    const facts = parseProbe(plan, probe.stdout, nonce);
    const changes = diffAll(job, facts, opts.withContent);
    const pending = (facts.pending.get(pendingDir(job.lockFile)) ?? []).filter((n) => job.handlers.has(n));
    return { nonce, stdout: probe.stdout, changes, pending, reasons: okReasons(job, facts, changes) };
  } catch (e) {
    const why = firstLine(probe.stderr) || (e as Error).message;
    const detail = [probe.stderr.trim(), (e as Error).message].filter(Boolean).join('\n');
    return { status: 'failed', steps: [], handlers: [], error: `probe failed (exit ${probe.exitCode}): ${why}`, detail };
  }
}

/** The plan reported; check stops here, apply goes on when there is something to do. */
async function planAndApply(run: HostRun, conn: Connection, probed: Probed): Promise<Outcome> {
  const { job, opts } = run;
  const { changes, pending, reasons } = probed;
  run.reporter.hostPlan(job.name, changes, job.steps, pending, reasons);
  const byStep = new Map(changes.map((c) => [c.step, c]));
  const outcomes: StepOutcome[] = job.steps.map((s) => {
    const change = byStep.get(s.index);
    return change ? { index: s.index, name: s.name, status: 'pending', change } : { index: s.index, name: s.name, status: 'ok', reason: reasons.get(s.index) ?? 'in sync' };
  });
  if (opts.mode === 'check') {
    return { status: changes.length || pending.length ? 'drift' : 'in-sync', steps: outcomes, handlers: [], pendingHandlers: pending };
  }
  if (!changes.length && !pending.length) return { status: 'ok', steps: outcomes, handlers: [] };
  if (opts.signal?.aborted) return { status: 'interrupted', steps: outcomes, handlers: [], error: 'interrupted before the apply: nothing was changed' };
  return applyHost(run, conn, probed, outcomes);
}

/** The apply phase: ONE exec streaming the script, then the verdict from its output. */
async function applyHost(run: HostRun, conn: Connection, probed: Probed, outcomes: StepOutcome[]): Promise<Outcome> {
  const { job, opts } = run;
  const { nonce } = probed;
  run.reporter.hostPhase(job.name, 'apply');
  // Built only now, and its text again once the host's session is open (apply-text.ts).
  const { plan: script, text } = buildApply(run, conn, probed);
  const byIndex = new Map(outcomes.map((o) => [o.index, o]));
  const { res, handlers } = await streamApply({ job, conn, script, text, nonce, reporter: run.reporter, signal: opts.signal, byIndex, countExec: () => run.execs++ });
  const parsed = parseApplyOutput(res.stdout, nonce);
  return applyVerdict({ job, script, res, parsed, nonce, outcomes, handlers, breakLock: opts.breakLock ?? false, aborted: opts.signal?.aborted ?? false });
}

/** The host's apply script, split (apply-text.ts); the guard is computed once for both builds. */
function buildApply(run: HostRun, conn: Connection, probed: Probed): SplitScript {
  const { job, opts } = run;
  const { changes, pending, nonce } = probed;
  const options = { holder: opts.holder, breakLock: opts.breakLock ?? false, breakLockGraceS: opts.breakLockGraceS, pending, payloads: conn.acceptsPayloads?.() ?? false, guard: opts.planGuard?.inApply?.(job, nonce, probed.stdout) };
  const withPending = withLoadPending(job, changes);
  return splitScript(() => buildApplyScript(withPending, changes, nonce, options));
}
