/** The probe's lock test, run by a real sh: locked only while the recorded apply process lives. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockTestScript } from '../../../src/watch/probe.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'provision-lock-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function locked(file: string): boolean {
  return spawnSync('sh', ['-c', lockTestScript(file).text]).status === 0;
}

describe('lockTestScript', () => {
  it('is not locked when the file is missing, empty, or names no live apply', async () => {
    const f = path.join(dir, 'it lock');
    expect(locked(f)).toBe(false);
    await writeFile(f, '');
    expect(locked(f)).toBe(false);
    await writeFile(f, 'controller=x user=root remote_pid=abc remote_start=1\n');
    expect(locked(f)).toBe(false);
    const gone = spawnSync('true').pid!;
    await writeFile(f, `controller=x remote_pid=${gone} remote_start=1 session=0\n`);
    expect(locked(f)).toBe(false);
  });

  it('is locked while the recorded apply process runs', async () => {
    const f = path.join(dir, 'lock');
    const apply = spawn('sleep', ['30']);
    try {
      await writeFile(f, `controller=ci user=root pid=1 started=now remote_pid=${apply.pid} remote_start=1 session=0 work=/tmp/x\n`);
      expect(locked(f)).toBe(true);
    } finally {
      apply.kill();
    }
  });
});
