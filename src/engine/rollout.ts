/**
 * Rolling apply: a layer above the per-host run. Hosts are cut into units (the group
 * their `serial` comes from) and each unit into batches, in inventory order. For every
 * host of a batch: the per-host run (probe, apply, handlers), then its health gates,
 * then, when a handler or a gate failed after the host changed, the automatic restore.
 * A batch with more failures than `max_fail` allows, or any restore, stops the rollout:
 * every later host is reported `not started` and is never connected to. Ctrl-C lets the
 * running batch finish its steps (the per-host run handles it) and starts no new batch.
 */
import { failuresAllowed, rolloutUnits, splitBatches, type MaxFail, type SerialEntry } from './batches.js';
import { runGates } from './health-run.js';
import { gatesPassed, type Gate } from './health.js';
import { runHost } from './host-run.js';
import { mapPool } from './pool.js';
import { hostChanged, restoreHost } from './restore.js';
import type { HostJob, HostResult, Reporter, RunOptions } from './types.js';

export interface RolloutHost {
  job: HostJob;
  gates: Gate[];
  /** Restore on a failed handler or gate (`restore: false` opts out). */
  restore: boolean;
  group: string | null;
  serial: SerialEntry[];
  maxFail: MaxFail | undefined;
}

export interface RolloutOptions extends RunOptions {
  /** `--serial` / `--max-fail`: one unit of every host with these settings. */
  override?: { serial: SerialEntry[]; maxFail?: MaxFail | undefined };
}

const FAILED = new Set(['failed', 'unreachable', 'partial', 'restored', 'restore failed']);

export function notStarted(host: string, why: string): HostResult {
  return { host, status: 'not started', steps: [], handlers: [], error: `not started: ${why}`, durationMs: 0, execs: 0 };
}

/** After the per-host run: gates, and the restore when they (or a handler) failed. */
async function gateAndRestore(h: RolloutHost, r: HostResult, opts: RunOptions, reporter: Reporter): Promise<HostResult> {
  let result = r;
  const handlerFailed = r.status === 'failed' && r.handlers.some((x) => x.status === 'failed');
  if ((r.status === 'ok' || r.status === 'changed') && h.gates.length) {
    const onHost = h.gates.some((g) => g.from === 'host');
    let conn = null;
    try {
      if (onHost) conn = await h.job.connect();
    } catch {
      conn = null;
    }
    const run = await runGates(h.gates, conn, h.job.sudo, opts.signal).finally(() => conn?.close().catch(() => {}));
    reporter.gatesDone?.(h.job.name, run.results);
    result = { ...result, gates: run.results, execs: result.execs + run.execs };
    if (!gatesPassed(run.results)) {
      const bad = run.results.filter((g) => !g.passed).map((g) => g.name);
      result = { ...result, status: 'failed', error: `health gate${bad.length > 1 ? 's' : ''} failed: ${bad.join(', ')}` };
    }
  }
  const gateFailed = result.gates !== undefined && !gatesPassed(result.gates);
  if (!h.restore || !(handlerFailed || gateFailed) || !hostChanged(r)) return result;
  const { report, execs } = await restoreHost(h.job, opts.holder, r, h.gates);
  reporter.restoreDone?.(h.job.name, report);
  const cause = result.error ?? 'failed';
  return {
    ...result,
    status: report.ok ? 'restored' : 'restore failed',
    error: report.ok ? `${cause}; restored what this run replaced` : `${cause}; RESTORE FAILED: ${report.error}`,
    restore: report,
    execs: result.execs + execs,
  };
}

export async function runRollout(hosts: RolloutHost[], opts: RolloutOptions, reporter: Reporter): Promise<HostResult[]> {
  const results = new Map<string, HostResult>();
  const units = rolloutUnits(hosts, (h) => h, opts.override);
  let stopped: string | null = null;
  for (const unit of units) {
    const batches = splitBatches(unit.items, unit.serial);
    for (const [b, batch] of batches.entries()) {
      if (stopped === null && opts.signal?.aborted) stopped = 'interrupted';
      if (stopped !== null) {
        for (const h of batch) results.set(h.job.name, notStarted(h.job.name, stopped));
        continue;
      }
      if (batches.length > 1) reporter.batchStart?.(unit.group, b + 1, batches.length, batch.map((h) => h.job.name));
      const done = await mapPool(batch, opts.forks, async (h) => {
        const r = await gateAndRestore(h, await runHost(h.job, opts, reporter), opts, reporter);
        reporter.hostDone(r);
        return r;
      });
      for (const r of done) results.set(r.host, r);
      const failed = done.filter((r) => FAILED.has(r.status));
      const allowed = failuresAllowed(unit.maxFail, batch.length);
      if (done.some((r) => r.status === 'restored' || r.status === 'restore failed')) {
        stopped = `the rollout stopped after ${done.filter((r) => r.restore).map((r) => r.host).join(', ')} had to be restored`;
      } else if (failed.length > allowed) {
        stopped = `the rollout stopped: ${failed.length} failed host${failed.length > 1 ? 's' : ''} in a batch of ${batch.length} (max_fail allows ${allowed})`;
      }
      if (stopped !== null) reporter.rolloutStopped?.(stopped);
    }
  }
  const ordered = hosts.map((h) => results.get(h.job.name)!);
  for (const r of ordered) if (r.status === 'not started') reporter.hostDone(r);
  await reporter.runDone(ordered, opts.mode);
  return ordered;
}
