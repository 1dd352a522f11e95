/**
 * The live display's closing output: after an apply, what was done and the failures; the
 * plan (`+ consul group: does not exist`) only for check or with --diff, since printed
 * after the results it read as a list of failures.
 */
import { describe, expect, it } from 'vitest';
import type { HostResult, ResolvedStep } from '../../../src/engine/types.js';
import { ListrReporter } from '../../../src/report/listr.js';
import { Redactor } from '../../../src/report/redact.js';
import type { Change } from '../../../src/resources/types.js';

const steps = [
  { index: 0, name: 'consul group', where: 'p.yaml:3' },
  { index: 1, name: 'consul binary', where: 'p.yaml:9' },
] as unknown as ResolvedStep[];
const changes: Change[] = steps.map((s) => ({ step: s.index, kind: 'group', id: `id ${s.index}`, action: 'create', reason: 'does not exist', attrs: [], spec: {} }));

function result(failed: boolean): HostResult {
  return {
    host: 'lb-1',
    status: failed ? 'failed' : 'changed',
    steps: [
      { index: 0, name: 'consul group', status: 'changed' },
      failed ? { index: 1, name: 'consul binary', status: 'failed', error: 'sha256 mismatch' } : { index: 1, name: 'consul binary', status: 'changed' },
    ],
    handlers: [{ name: 'restart consul', status: failed ? 'ok' : 'changed' }],
    durationMs: 1000,
    execs: 2,
  };
}

async function closing(mode: 'apply' | 'check', showDiff: boolean, failed: boolean): Promise<string> {
  let out = '';
  const reporter = new ListrReporter(['lb-1'], { redactor: new Redactor([]), showDiff, color: false, write: (t) => (out += t) });
  reporter.hostStart('lb-1');
  reporter.hostPlan('lb-1', changes, steps, []);
  const r = result(failed);
  for (const s of r.steps) reporter.stepDone('lb-1', s);
  reporter.hostDone(r);
  await reporter.runDone([r], mode);
  return out;
}

describe('live display: results after the apply, the plan only when asked', () => {
  it('apply: one line of what was done, no plan lines', async () => {
    const out = await closing('apply', false, false);
    expect(out).toContain('lb-1: 2 steps changed, 1 handler ran\n');
    expect(out).not.toContain('+ consul group');
  });

  it('apply with a failure: what was done, then the failure in full', async () => {
    const out = await closing('apply', false, true);
    expect(out).toContain('lb-1: 1 step changed, 1 failed\nlb-1: FAILED consul binary\n    sha256 mismatch');
    expect(out).not.toContain('+ consul group');
  });

  it('apply --diff and check show the plan', async () => {
    expect(await closing('apply', true, false)).toContain('lb-1: + consul group: does not exist');
    expect(await closing('check', false, false)).toContain('lb-1: + consul binary: does not exist');
  });
});
