/**
 * Why each step without a change has nothing to do (`--verbose`, `--json`): the step
 * type's own reason, or what the probe saw of the facts the step asked for.
 */
import { describeInSync } from '../resources/facts/describe.js';
import type { Change, Facts } from '../resources/types.js';
import type { HostJob } from './types.js';

/** Step index -> reason, for the steps of `job` that have no change. Pure. */
export function okReasons(job: HostJob, facts: Facts, changes: Change[]): Map<number, string> {
  const changed = new Set(changes.map((c) => c.step));
  const out = new Map<number, string>();
  for (const s of job.steps) {
    if (changed.has(s.index)) continue;
    out.set(s.index, s.type.okReason?.(s.spec, facts) ?? describeInSync(s.type.facts(s.spec), facts));
  }
  return out;
}
