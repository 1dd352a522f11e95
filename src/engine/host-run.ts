/**
 * One host, start to end: connect, ONE probe exec, local diff, and (apply with changes)
 * ONE apply exec. Never throws: every failure becomes a HostResult so one bad host never
 * stops the others.
 */
import { randomBytes } from 'node:crypto';
import { ProvisionError } from '../config/errors.js';
import { parseProbe, planProbe, probeScript } from '../resources/facts/index.js';
import type { Change, FactRequest } from '../resources/types.js';
import { quote } from '../resources/sh.js';
import type { Connection } from '../transport/connection.js';
import { buildApplyScript, pendingDir } from './apply-script.js';
import { parseApplyOutput } from './apply-output.js';
import { loadPendingChanges, loadPendingRequests, withLoadPending } from './load-pending.js';
import { okReasons } from './ok-reasons.js';
import type { HandlerOutcome, HostJob, HostResult, Reporter, RunOptions, StepOutcome } from './types.js';
import { unstage } from './unstage.js';

export function newNonce(): string {
  return randomBytes(8).toString('hex');
}

function firstLine(text: string): string {
  return text.trim().split('\n').find((l) => l.trim()) ?? '';
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
  return [...changes, ...loadPendingChanges(job, facts, changes)].sort((a, b) => a.step - b.step);
}

export async function runHost(job: HostJob, opts: RunOptions, reporter: Reporter): Promise<HostResult> {
  const started = Date.now();
  let execs = 0;
  let conn: Connection | undefined;
  const result = (partial: Omit<HostResult, 'host' | 'durationMs' | 'execs'>): HostResult => ({
    host: job.name,
    durationMs: Date.now() - started,
    execs,
    ...partial,
  });
  reporter.hostStart(job.name);
  try {
    reporter.hostPhase(job.name, 'connect');
    try {
      conn = await job.connect();
    } catch (e) {
      const msg = e instanceof ProvisionError ? e.shortMessage : (e as Error).message;
      return result({ status: 'unreachable', steps: [], handlers: [], error: msg, ...errorDetail(e) });
    }
    if (opts.signal?.aborted) return result({ status: 'interrupted', steps: [], handlers: [], error: 'interrupted before the probe: nothing was changed' });

    reporter.hostPhase(job.name, 'probe');
    const nonce = newNonce();
    const plan = planProbe(factRequests(job, opts.withContent));
    execs++;
    const probe = await conn.exec(probeScript(plan, nonce), { sudo: job.sudo, signal: opts.signal });
    // The probe only reads; an interrupted one is simply dropped.
    if (opts.signal?.aborted) return result({ status: 'interrupted', steps: [], handlers: [], error: 'interrupted before the apply: nothing was changed' });
    if (probe.connectionLost) return result({ status: 'failed', steps: [], handlers: [], error: 'connection lost during the probe; re-run to converge' });
    const refused = opts.planGuard?.onProbe(job, probe.stdout, nonce);
    if (refused) return result({ status: 'failed', steps: [], handlers: [], error: refused });
    let changes: Change[];
    let pending: string[];
    let reasons: Map<number, string>;
    try {
      const facts = parseProbe(plan, probe.stdout, nonce);
      changes = diffAll(job, facts, opts.withContent);
      pending = (facts.pending.get(pendingDir(job.lockFile)) ?? []).filter((n) => job.handlers.has(n));
      reasons = okReasons(job, facts, changes);
    } catch (e) {
      const why = firstLine(probe.stderr) || (e as Error).message;
      const detail = [probe.stderr.trim(), (e as Error).message].filter(Boolean).join('\n');
      return result({ status: 'failed', steps: [], handlers: [], error: `probe failed (exit ${probe.exitCode}): ${why}`, detail });
    }
    reporter.hostPlan(job.name, changes, job.steps, pending, reasons);
    const byStep = new Map(changes.map((c) => [c.step, c]));
    const outcomes: StepOutcome[] = job.steps.map((s) => {
      const change = byStep.get(s.index);
      return change ? { index: s.index, name: s.name, status: 'pending', change } : { index: s.index, name: s.name, status: 'ok', reason: reasons.get(s.index) ?? 'in sync' };
    });
    if (opts.mode === 'check') {
      return result({ status: changes.length || pending.length ? 'drift' : 'in-sync', steps: outcomes, handlers: [], pendingHandlers: pending });
    }
    if (!changes.length && !pending.length) return result({ status: 'ok', steps: outcomes, handlers: [] });
    if (opts.signal?.aborted) return result({ status: 'interrupted', steps: outcomes, handlers: [], error: 'interrupted before the apply: nothing was changed' });

    reporter.hostPhase(job.name, 'apply');
    const script = buildApplyScript(withLoadPending(job, changes), changes, nonce, { holder: opts.holder, breakLock: opts.breakLock ?? false, breakLockGraceS: opts.breakLockGraceS, pending, payloads: conn.acceptsPayloads?.() ?? false, guard: opts.planGuard?.inApply?.(job, nonce, probe.stdout) });
    const reported = new Set<string>();
    const handlers: HandlerOutcome[] = [];
    const byIndex = new Map(outcomes.map((o) => [o.index, o]));
    let buffer = '';
    // Ctrl-C does not cut the apply: the controller drops a stop flag into the script's
    // temp dir with a second exec (the only extra round trip, and only on Ctrl-C); the
    // script sees it before its next step, runs the handlers notified so far, releases
    // the lock and reports the first step it did not start.
    let tempDir: string | null = null;
    let stopSent = false;
    const connection = conn;
    const sendStop = () => {
      if (stopSent || !tempDir || !opts.signal?.aborted) return;
      stopSent = true;
      execs++;
      void connection.exec(`: > ${quote(`${tempDir}/stop`)}`, { sudo: job.sudo }).catch(() => undefined);
    };
    opts.signal?.addEventListener('abort', sendStop, { once: true });
    const emit = (stdout: string) => {
      const seen = parseApplyOutput(stdout, nonce);
      if (!tempDir && seen.tempDir) {
        tempDir = seen.tempDir;
        sendStop();
      }
      for (const ev of seen.events) {
        const key = `${ev.type} ${ev.index}`;
        if (reported.has(key)) continue;
        reported.add(key);
        if (ev.type === 'begin') {
          const o = byIndex.get(ev.index);
          if (o) reporter.stepStart?.(job.name, o);
          continue;
        }
        if (ev.type === 'hok' || ev.type === 'hchanged' || ev.type === 'hfailed') {
          // `ok`: it ran and had nothing to do (a reload made redundant by a restart).
          const h: HandlerOutcome = { name: script.handlers[ev.index]!, status: ev.type === 'hok' ? 'ok' : ev.type === 'hchanged' ? 'changed' : 'failed' };
          if (ev.output) h.error = ev.output.trim();
          handlers.push(h);
          reporter.handlerDone(job.name, h);
          continue;
        }
        const o = byIndex.get(ev.index);
        if (!o) continue;
        o.status = ev.type === 'failed' ? 'failed' : ev.type === 'changed' ? 'changed' : 'ok';
        if (ev.type === 'ok') o.reason = 'nothing left to do when it ran (its own re-check on the host)';
        if (ev.type === 'failed') o.error = unstage((ev.output ?? '').trim(), nonce) || `exit code ${ev.rc}`;
        reporter.stepDone(job.name, o);
      }
    };
    execs++;
    const res = await conn
      .exec(script.script, {
        sudo: job.sudo,
        ...(script.payloads.length ? { payloads: script.payloads } : {}),
        onStdout: (chunk) => {
          buffer += chunk;
          emit(buffer);
        },
      })
      .finally(() => opts.signal?.removeEventListener('abort', sendStop));
    emit(res.stdout);
    const parsed = parseApplyOutput(res.stdout, nonce);
    if (parsed.locked !== null) {
      return result({ status: 'failed', steps: outcomes, handlers, error: lockMessage(parsed.locked.split('\n')[0]!, parsed.lockState, opts.breakLock ?? false) });
    }
    if (res.stdout.includes(`@@${nonce} stale\n`)) {
      return result({ status: 'failed', steps: outcomes, handlers, error: 'refused: the host changed between the probe and the apply (stale plan); nothing was changed' });
    }
    const notes = parsed.broke !== null ? [brokeNote(parsed.broke, parsed.brokeBy)] : undefined;
    const withNotes = (r: HostResult): HostResult => (notes ? { ...r, notes } : r);
    if (parsed.lockError) return withNotes(result({ status: 'failed', steps: outcomes, handlers, error: `cannot open the lock file ${job.lockFile}` }));
    // A failed set commit: none of the set's files were installed.
    for (const [set, members] of script.setMembers) {
      const last = byIndex.get(members[members.length - 1]!);
      if (last?.status !== 'failed') continue;
      for (const i of members.slice(0, -1)) {
        const o = byIndex.get(i)!;
        if (o.status === 'changed') {
          o.status = 'failed';
          o.error = `not installed: validate_set ${set} failed`;
        }
      }
    }
    for (const o of outcomes) if (o.status === 'pending') o.status = 'skipped';
    const failed = outcomes.find((o) => o.status === 'failed');
    const hFailed = handlers.find((h) => h.status === 'failed');
    if (!parsed.done) {
      const cut = parsed.running !== null ? job.steps.find((s) => s.index === parsed.running) : undefined;
      const where = cut ? `during step "${cut.name}"` : parsed.started ? 'between steps' : 'before the apply started';
      const why = res.connectionLost ? 'connection lost' : opts.signal?.aborted ? 'interrupted' : `apply script ended early (exit ${res.exitCode ?? res.signal}: ${firstLine(res.stderr)})`;
      return withNotes(result({ status: 'failed', steps: outcomes, handlers, error: `${why} ${where}; re-run to converge`, ...(res.stderr.trim() ? { detail: res.stderr.trim() } : {}) }));
    }
    if (failed) return withNotes(result({ status: 'failed', steps: outcomes, handlers, error: `step "${failed.name}" failed: ${firstLine(failed.error ?? '')}` }));
    if (hFailed) return withNotes(result({ status: 'failed', steps: outcomes, handlers, error: `handler "${hFailed.name}" failed: ${firstLine(hFailed.error ?? '')}` }));
    if (parsed.stopped !== null) {
      const notRun = outcomes.filter((o) => o.status === 'skipped').length;
      const next = job.steps.find((s) => s.index === parsed.stopped);
      const error = `interrupted: ${notRun} step${notRun === 1 ? '' : 's'} not run, from "${next?.name ?? parsed.stopped}" on; re-run to converge`;
      return withNotes(result({ status: 'partial', steps: outcomes, handlers, error }));
    }
    const anyChanged = outcomes.some((o) => o.status === 'changed') || handlers.some((h) => h.status === 'changed');
    return withNotes(result({ status: anyChanged ? 'changed' : 'ok', steps: outcomes, handlers }));
  } catch (e) {
    const msg = e instanceof ProvisionError ? e.shortMessage : (e as Error).message;
    return result({ status: 'failed', steps: [], handlers: [], error: msg, ...errorDetail(e) });
  } finally {
    await conn?.close().catch(() => {});
  }
}

/** The long form of an error (ProvisionError.detail: the tool's own message), when it has one. */
function errorDetail(e: unknown): { detail?: string } {
  return e instanceof ProvisionError && e.detail ? { detail: e.detail } : {};
}

/** The lock message: the holder's line, and whether (and how) it can be cleared. */
/** What `--break-lock` did: whose lock, and how its holder was stopped. */
export function brokeNote(holder: string, by: string | null): string {
  const how =
    by === 'TERM'
      ? 'its apply stopped on SIGTERM and removed what it had staged'
      : by === 'KILL'
        ? 'its apply did not stop on SIGTERM and was killed; what it had staged was removed for it'
        : 'its apply could not be stopped';
  return `broke a stale lock held by: ${holder}; ${how}`;
}

export function lockMessage(holder: string, state: string | null, breakLock: boolean): string {
  const base = `host is locked by another run: ${holder}`;
  if (state?.startsWith('stale')) return `${base} (${state}); re-run with --break-lock to stop it and take the lock`;
  if (state === 'live') return `${base} (running, its controller connected${breakLock ? '; --break-lock only clears stale locks' : ''})`;
  return base;
}
