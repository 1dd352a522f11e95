/**
 * What an apply came to on one host, from its framed output once the exec ended: locked
 * out, refused as stale, cut short, a failed step or handler, stopped by Ctrl-C, or done
 * (changed or not). Pure.
 */
import type { ExecResult } from '../transport/connection.js';
import type { ApplyOutput } from './apply-output.js';
import type { ApplyPlan } from './apply-text.js';
import type { HandlerOutcome, HostJob, HostResult, StepOutcome } from './types.js';

/** A host result without the fields the run itself fills in (name, time, execs). */
export type Outcome = Omit<HostResult, 'host' | 'durationMs' | 'execs'>;

export interface Applied {
  job: HostJob;
  script: ApplyPlan;
  res: ExecResult;
  parsed: ApplyOutput;
  nonce: string;
  outcomes: StepOutcome[];
  handlers: HandlerOutcome[];
  breakLock: boolean;
  aborted: boolean;
}

export function firstLine(text: string): string {
  return text.trim().split('\n').find((l) => l.trim()) ?? '';
}

export function applyVerdict(a: Applied): Outcome {
  const { parsed, outcomes, handlers } = a;
  if (parsed.locked !== null) {
    return { status: 'failed', steps: outcomes, handlers, error: lockMessage(parsed.locked.split('\n')[0]!, parsed.lockState, a.breakLock) };
  }
  if (a.res.stdout.includes(`@@${a.nonce} stale\n`)) {
    return { status: 'failed', steps: outcomes, handlers, error: 'refused: the host changed between the probe and the apply (stale plan); nothing was changed' };
  }
  const verdict = ranVerdict(a);
  return parsed.broke !== null ? { ...verdict, notes: [brokeNote(parsed.broke, parsed.brokeBy)] } : verdict;
}

/** The verdict of a script that held the lock and ran. */
function ranVerdict(a: Applied): Outcome {
  const { parsed, outcomes, handlers, job } = a;
  if (parsed.lockError) return { status: 'failed', steps: outcomes, handlers, error: `cannot open the lock file ${job.lockFile}` };
  failSetMembers(a.script, outcomes);
  for (const o of outcomes) if (o.status === 'pending') o.status = 'skipped';
  const failed = outcomes.find((o) => o.status === 'failed');
  const hFailed = handlers.find((h) => h.status === 'failed');
  if (!parsed.done) return { status: 'failed', steps: outcomes, handlers, error: cutShort(a), ...(a.res.stderr.trim() ? { detail: a.res.stderr.trim() } : {}) };
  if (failed) return { status: 'failed', steps: outcomes, handlers, error: `step "${failed.name}" failed: ${firstLine(failed.error ?? '')}` };
  if (hFailed) return { status: 'failed', steps: outcomes, handlers, error: `handler "${hFailed.name}" failed: ${firstLine(hFailed.error ?? '')}` };
  if (parsed.stopped !== null) {
    const notRun = outcomes.filter((o) => o.status === 'skipped').length;
    const next = job.steps.find((s) => s.index === parsed.stopped);
    const error = `interrupted: ${notRun} step${notRun === 1 ? '' : 's'} not run, from "${next?.name ?? parsed.stopped}" on; re-run to converge`;
    return { status: 'partial', steps: outcomes, handlers, error };
  }
  const anyChanged = outcomes.some((o) => o.status === 'changed') || handlers.some((h) => h.status === 'changed');
  return { status: anyChanged ? 'changed' : 'ok', steps: outcomes, handlers };
}

/** A failed set commit: none of the set's files were installed, though their steps staged them. */
function failSetMembers(script: ApplyPlan, outcomes: StepOutcome[]): void {
  const byIndex = new Map(outcomes.map((o) => [o.index, o]));
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
}

/** Why a script that never printed `done` ended, and where. */
function cutShort(a: Applied): string {
  const { parsed, res } = a;
  const cut = parsed.running !== null ? a.job.steps.find((s) => s.index === parsed.running) : undefined;
  const where = cut ? `during step "${cut.name}"` : parsed.started ? 'between steps' : 'before the apply started';
  const why = res.connectionLost ? 'connection lost' : a.aborted ? 'interrupted' : `apply script ended early (exit ${res.exitCode ?? res.signal}: ${firstLine(res.stderr)})`;
  return `${why} ${where}; re-run to converge`;
}

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

/** The lock message: the holder's line, and whether (and how) it can be cleared. */
export function lockMessage(holder: string, state: string | null, breakLock: boolean): string {
  const base = `host is locked by another run: ${holder}`;
  if (state?.startsWith('stale')) return `${base} (${state}); re-run with --break-lock to stop it and take the lock`;
  if (state === 'live') return `${base} (running, its controller connected${breakLock ? '; --break-lock only clears stale locks' : ''})`;
  return base;
}
