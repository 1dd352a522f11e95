/**
 * The watch check with real sh (LocalConnection): one exec when in sync; a new drift costs
 * one more exec for its diff, the same drift seen again does not; a live lock is `locked`;
 * secrets in diffs are masked.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostJob, ResolvedStep } from '../../../src/engine/types.js';
import { Redactor } from '../../../src/report/redact.js';
import { fileResource } from '../../../src/resources/file.js';
import { probeHost } from '../../../src/watch/probe.js';
import { LocalConnection } from '../../support/local-connection.js';

const SECRET = 'tok-9f8e7d6c';
let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'provision-watch-probe-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function fileStep(index: number, dest: string, content: string): ResolvedStep {
  const s = fileResource.schema.parse({ dest, content });
  const spec = { ...s, bytes: Buffer.from(content) };
  return { index, name: `conf ${index}`, kind: 'file', type: fileResource, spec, notify: [], where: 'site.yaml:7' };
}

function job(conn: LocalConnection): HostJob {
  return {
    name: 'h1',
    steps: [fileStep(0, path.join(root, 'a.conf'), `key=${SECRET}\nlevel=3\n`), fileStep(1, path.join(root, 'b.conf'), 'b\n')],
    handlers: new Map(),
    validateSets: new Map(),
    sudo: false,
    lockFile: path.join(root, 'lock'),
    connect: async () => conn,
  };
}

describe('probeHost', () => {
  it('in sync: one exec; new drift: two (the diff), masked; the same drift again: one', async () => {
    await writeFile(path.join(root, 'a.conf'), `key=${SECRET}\nlevel=3\n`);
    await writeFile(path.join(root, 'b.conf'), 'b\n');
    const conn = new LocalConnection();
    const redactor = new Redactor([SECRET]);
    const j = job(conn);
    const ok = await probeHost({ job: j, conn, redactor });
    expect(ok.check).toMatchObject({ status: 'in-sync', execs: 1, steps: [] });
    expect(conn.execs).toBe(1);

    await writeFile(path.join(root, 'a.conf'), `key=${SECRET}\nlevel=9\n`);
    const d1 = await probeHost({ job: j, conn, redactor, previous: ok.check });
    expect(d1.check.status).toBe('drift');
    expect(d1.check.execs).toBe(2);
    expect(conn.execs).toBe(3);
    expect(d1.check.steps).toHaveLength(1);
    expect(d1.check.steps[0]).toMatchObject({ index: 0, name: 'conf 0', where: 'site.yaml:7', reason: 'content differs' });
    expect(d1.check.steps[0]!.diff).toContain('-level=9');
    expect(d1.check.steps[0]!.diff).toContain('+level=3');
    expect(JSON.stringify(d1.check)).not.toContain(SECRET);

    const d2 = await probeHost({ job: j, conn, redactor, previous: d1.check });
    expect(d2.check.execs).toBe(1);
    expect(conn.execs).toBe(4);
    expect(d2.check.steps).toEqual(d1.check.steps);

    await writeFile(path.join(root, 'a.conf'), `key=${SECRET}\nlevel=10\n`);
    const d3 = await probeHost({ job: j, conn, redactor, previous: d2.check });
    expect(d3.check.execs).toBe(2); // a different drift: its own diff
    expect(d3.check.steps[0]!.diff).toContain('-level=10');
  });

  it('is `locked` while the lock names a live apply, whatever the drift', async () => {
    const conn = new LocalConnection();
    const holder = spawn('sleep', ['30']);
    try {
      await writeFile(path.join(root, 'lock'), `controller=x remote_pid=${holder.pid} remote_start=1 session=0\n`);
      const r = await probeHost({ job: job(conn), conn, redactor: new Redactor([]) });
      expect(r.check.status).toBe('locked');
      expect(conn.execs).toBe(1);
    } finally {
      holder.kill();
    }
  });

  it('a broken probe is an error, not a drift', async () => {
    const conn = new LocalConnection();
    conn.exec = async () => ({ exitCode: 1, signal: null, stdout: '', stderr: 'sudo: a password is required\n', durationMs: 1, connectionLost: false });
    const r = await probeHost({ job: job(conn), conn, redactor: new Redactor([]) });
    expect(r.check).toMatchObject({ status: 'error', error: 'probe failed (exit 1): sudo: a password is required' });
    expect(r.lost).toBe(false);
  });
});
