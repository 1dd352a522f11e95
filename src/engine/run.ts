/**
 * All hosts, in parallel up to `forks`; results in inventory order. Once the run is
 * aborted (Ctrl-C) no further host starts: each is reported `interrupted`.
 */
import { mapPool } from './pool.js';
import { runHost } from './host-run.js';
import type { HostJob, HostResult, Reporter, RunOptions } from './types.js';

export async function runAll(jobs: HostJob[], opts: RunOptions, reporter: Reporter): Promise<HostResult[]> {
  const results = await mapPool(jobs, opts.forks, async (job) => {
    const r: HostResult = opts.signal?.aborted
      ? { host: job.name, status: 'interrupted', steps: [], handlers: [], error: 'not started: interrupted', durationMs: 0, execs: 0 }
      : await runHost(job, opts, reporter);
    reporter.hostDone(r);
    return r;
  });
  await reporter.runDone(results, opts.mode);
  return results;
}
