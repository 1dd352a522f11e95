/**
 * The automatic restore of one host, controller side: one exec of the restore script
 * (files back, the same handlers, the host-side gates), then the controller-side gates.
 * Never throws: a restore that cannot run is a failed RestoreReport.
 */
import type { Connection } from '../transport/connection.js';
import { runGates } from './health-run.js';
import { hostResults } from './health-run.js';
import { gatesPassed, type Gate } from './health.js';
import { newNonce } from './host-run.js';
import { buildRestoreScript, parseRestoreOutput } from './restore-script.js';
import type { HostJob, HostResult, RestoreReport } from './types.js';

/** Handlers the apply ran (changed, failed or not needed): the restore runs them again. */
export function handlersToRerun(result: HostResult): string[] {
  return [...new Set(result.handlers.map((h) => h.name))];
}

/**
 * Whether the apply changed a step on the host: only then is there something of this run
 * to put back (a handler left pending by an earlier run that fails again is not restored).
 */
export function hostChanged(result: HostResult): boolean {
  return result.steps.some((s) => s.status === 'changed');
}

export async function restoreHost(job: HostJob, holder: string, result: HostResult, gates: readonly Gate[]): Promise<{ report: RestoreReport; execs: number }> {
  const started = Date.now();
  const handlers = handlersToRerun(result);
  const fail = (error: string, partial: Partial<RestoreReport> = {}): RestoreReport => ({
    ok: false, restored: [], removed: [], failed: [], handlers: [], gates: [], ...partial, error, durationMs: Date.now() - started,
  });
  let conn: Connection | undefined;
  try {
    conn = await job.connect();
  } catch (e) {
    return { report: fail(`cannot connect for the restore: ${(e as Error).message}`), execs: 0 };
  }
  try {
    const nonce = newNonce();
    const script = buildRestoreScript(job, holder, handlers, gates, nonce);
    const res = await conn.exec(script.script.text, { sudo: job.sudo });
    const out = parseRestoreOutput(res.stdout, nonce, script.handlers);
    const files = { restored: out.restored, removed: out.removed, failed: out.failed, handlers: out.handlers };
    if (out.locked) return { report: fail('the host is locked by another run: nothing was put back', files), execs: 1 };
    if (out.noJournal) return { report: fail('this run recorded nothing it could put back on the host', files), execs: 1 };
    if (out.filesBack !== true) {
      const why = res.connectionLost ? 'connection lost' : out.failed.length ? `could not put back ${out.failed.join(', ')}` : `restore script ended early (exit ${res.exitCode}): ${res.stderr.trim().split('\n')[0] ?? ''}`;
      return { report: fail(why, files), execs: 1 };
    }
    const onHost = hostResults(gates, res.stdout, nonce, out.done ? 'no result' : 'restore script ended early');
    const ctl = await runGates(gates.filter((g) => g.from === 'controller'), null, job.sudo);
    const ctlQueue = [...ctl.results];
    const gateResults = gates.map((g, i) => (g.from === 'host' ? onHost.get(i)! : ctlQueue.shift()!));
    const hFailed = out.handlers.find((h) => h.status === 'failed');
    const report: RestoreReport = { ok: true, ...files, gates: gateResults, durationMs: Date.now() - started };
    if (hFailed) return { report: { ...report, ok: false, error: `handler "${hFailed.name}" failed after the files were put back: ${hFailed.error?.split('\n')[0] ?? ''}` }, execs: 1 };
    if (!gatesPassed(gateResults)) {
      const bad = gateResults.filter((g) => !g.passed).map((g) => `${g.name} (${g.detail})`);
      return { report: { ...report, ok: false, error: `health still failing after the restore: ${bad.join('; ')}` }, execs: 1 };
    }
    return { report, execs: 1 };
  } catch (e) {
    return { report: fail((e as Error).message), execs: 1 };
  } finally {
    await conn.close().catch(() => {});
  }
}
