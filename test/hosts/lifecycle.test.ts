/**
 * A lab outlives nothing: Ctrl-C (SIGINT) on its owner tears it down, and the leftovers of
 * an owner killed with SIGKILL are removed by `cleanupStaleLabs()` on the next run.
 * Each case boots one real container in a child process (fixtures/hold-lab.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cleanupStaleLabs, linksOf, mountsUnder, netnsOf, nspawnPidsOf } from './cleanup.js';
import { markerPathOf } from './names.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..');

interface HeldLab {
  runId: string;
  runDir: string;
  bridge: string;
}

/** Starts fixtures/hold-lab.ts and resolves with its lab once booted. */
function holdLab(name: string, mode = 'hold'): Promise<{ child: ChildProcess; lab: HeldLab; exited: Promise<NodeJS.Signals | number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'fixtures', 'hold-lab.ts'), name, mode], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code)),
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, lab: JSON.parse(line) as HeldLab, exited });
    });
    // After the lab line has resolved the promise, this late reject is a no-op.
    void exited.then((how) => reject(new Error(`hold-lab exited early (${String(how)}):\n${stderr}`)));
  });
}

function expectNothingLeft(lab: HeldLab): void {
  expect(nspawnPidsOf(lab.runId)).toEqual([]);
  expect(netnsOf(lab.runId)).toEqual([]);
  expect(linksOf(lab.runId)).toEqual([]);
  expect(mountsUnder(lab.runDir)).toEqual([]);
  expect(existsSync(lab.runDir)).toBe(false);
  expect(existsSync(markerPathOf(lab.runId))).toBe(false);
}

describe('lab lifecycle across processes', () => {
  it('tears the lab down when its owner gets SIGINT', async () => {
    const { child, lab, exited } = await holdLab('sigint-1');
    expect(netnsOf(lab.runId)).toHaveLength(1);
    expect(nspawnPidsOf(lab.runId)).toHaveLength(1);
    child.kill('SIGINT');
    // The owner re-raises the signal once the lab is gone.
    expect(await exited).toBe('SIGINT');
    expectNothingLeft(lab);
  }, 15 * 60_000);

  it('cleans up from the exit hook when the owner exits without teardown', async () => {
    const { lab, exited } = await holdLab('exit-1', 'exit');
    expect(await exited).toBe(0);
    // The hook kills with SIGKILL and detaches lazily; give the kernel a moment to reap.
    await new Promise((r) => setTimeout(r, 500));
    expectNothingLeft(lab);
  }, 15 * 60_000);

  it('removes the leftovers of an owner killed with SIGKILL', async () => {
    const { child, lab, exited } = await holdLab('killed-1');
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    // Nothing ran in the owner: the container, namespace and bridge are still there.
    expect(nspawnPidsOf(lab.runId)).toHaveLength(1);
    expect(linksOf(lab.runId)).toContain(lab.bridge);
    expect(existsSync(markerPathOf(lab.runId))).toBe(true);
    const cleaned = await cleanupStaleLabs();
    expect(cleaned).toContain(lab.runId);
    expectNothingLeft(lab);
  }, 15 * 60_000);
});
