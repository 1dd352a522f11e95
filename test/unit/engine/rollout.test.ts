/**
 * The rolling apply with real sh scripts on local "hosts" (a temp dir each, LocalConnection):
 * batches in order, not-started hosts untouched and never connected to, the restore
 * journal and script putting back replaced and created files, handlers and gates re-run.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile, access } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Gate } from '../../../src/engine/health.js';
import { runRollout, type RolloutHost } from '../../../src/engine/rollout.js';
import type { HostJob, RunOptions } from '../../../src/engine/types.js';
import { RecordingReporter } from '../../../src/report/recording.js';
import { commandResource } from '../../../src/resources/command.js';
import { fileResource } from '../../../src/resources/file.js';
import { LocalConnection } from '../../support/local-connection.js';
import { restoreLines } from '../../../src/report/rollout-lines.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'provision-rollout-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const APPLY: RunOptions = { mode: 'apply', withContent: false, forks: 5, holder: 'controller=test pid=1 started=now' };
const exists = (p: string) => access(p).then(() => true, () => false);

interface LocalHost {
  name: string;
  dir: string;
  conns: LocalConnection[];
  host: RolloutHost;
}

/** A host whose `app.conf` becomes `content` (notifying `check`) and whose `extra.conf` is created. */
async function localHost(name: string, content: string, opts: { gate?: string; restore?: boolean; unreachable?: boolean; handler?: string } = {}): Promise<LocalHost> {
  const dir = path.join(root, name);
  await mkdir(dir);
  await writeFile(path.join(dir, 'app.conf'), 'good v1\n');
  const conns: LocalConnection[] = [];
  const file = (index: number, dest: string, text: string) => {
    const spec = fileResource.schema.parse({ dest, content: text }) as Record<string, unknown>;
    return { index, name: dest, kind: 'file', type: fileResource, spec: { ...spec, bytes: Buffer.from(text) }, notify: ['check'], where: 'test' };
  };
  const job: HostJob = {
    name,
    steps: [file(0, path.join(dir, 'app.conf'), content), file(1, path.join(dir, 'extra.conf'), 'extra\n')],
    // The "service": refuses to (re)start unless its config says good.
    handlers: new Map([['check', { name: 'check', kind: 'command', type: commandResource, spec: { cmd: opts.handler ?? `grep -q good ${dir}/app.conf && echo restarted >> ${dir}/handler.log` } }]]),
    validateSets: new Map(),
    sudo: false,
    lockFile: path.join(dir, 'lock'),
    connect: async () => {
      if (opts.unreachable) throw new Error('connection refused');
      const c = new LocalConnection(name);
      conns.push(c);
      return c;
    },
  };
  const gates: Gate[] = opts.gate ? [{ name: 'app healthy', from: 'host', check: { kind: 'command', command: opts.gate }, retries: 1, intervalS: 0.1, deadlineS: 10 }] : [];
  return { name, dir, conns, host: { job, gates, restore: opts.restore ?? true, group: 'lb', serial: [1], maxFail: undefined } };
}

const execs = (h: LocalHost) => h.conns.reduce((n, c) => n + c.execs, 0);
const statuses = (rs: { host: string; status: string }[]) => rs.map((r) => `${r.host} ${r.status}`);

describe('rolling apply on local hosts', () => {
  it('a handler that fails after a change: the host is restored, later hosts not started and untouched', async () => {
    const hosts = [await localHost('h1', 'bad v2\n'), await localHost('h2', 'bad v2\n'), await localHost('h3', 'bad v2\n')];
    const rec = new RecordingReporter();
    const results = await runRollout(hosts.map((h) => h.host), APPLY, rec);
    expect(statuses(results)).toEqual(['h1 restored', 'h2 not started', 'h3 not started']);
    const [h1, h2, h3] = hosts as [LocalHost, LocalHost, LocalHost];
    expect(await readFile(path.join(h1.dir, 'app.conf'), 'utf8')).toBe('good v1\n');
    expect(await exists(path.join(h1.dir, 'extra.conf'))).toBe(false);
    // The handler failed in the apply, then ran again on the restored config.
    expect(results[0]!.handlers).toEqual([expect.objectContaining({ name: 'check', status: 'failed' })]);
    expect(results[0]!.restore).toMatchObject({ ok: true, restored: [path.join(h1.dir, 'app.conf')], removed: [path.join(h1.dir, 'extra.conf')], handlers: [{ name: 'check', status: 'changed' }] });
    expect(await readFile(path.join(h1.dir, 'handler.log'), 'utf8')).toBe('restarted\n');
    // probe + apply + the restore: one exec more, on the failure path only.
    expect(execs(h1)).toBe(3);
    expect(results[0]!.execs).toBe(3);
    for (const h of [h2, h3]) {
      expect(h.conns).toHaveLength(0);
      expect(await readFile(path.join(h.dir, 'app.conf'), 'utf8')).toBe('good v1\n');
      expect(await exists(path.join(h.dir, 'extra.conf'))).toBe(false);
    }
    // The journal is spent: a second restore would find nothing to put back.
    expect(await exists(path.join(h1.dir, 'lock.restore'))).toBe(false);
  });

  it('a gate that fails after a change: restored, and the gate passes again', async () => {
    const gate = (dir: string) => `grep -q v1 ${dir}/app.conf`;
    const hosts = await Promise.all(['h1', 'h2'].map(async (n) => localHost(n, 'good v2\n', { gate: gate(path.join(root, n)) })));
    const results = await runRollout(hosts.map((h) => h.host), APPLY, new RecordingReporter());
    expect(statuses(results)).toEqual(['h1 restored', 'h2 not started']);
    expect(results[0]!.gates).toEqual([expect.objectContaining({ name: 'app healthy', passed: false, attempts: 2 })]);
    expect(results[0]!.restore!.gates).toEqual([expect.objectContaining({ name: 'app healthy', passed: true, attempts: 1 })]);
    expect(await readFile(path.join(hosts[0]!.dir, 'app.conf'), 'utf8')).toBe('good v1\n');
    // probe, apply, gates, restore (with the host-side gates inside it)
    expect(execs(hosts[0]!)).toBe(4);
  });

  it('a good change rolls through every host in inventory order, one batch at a time, gates passing', async () => {
    const hosts = await Promise.all(['h1', 'h2', 'h3'].map(async (n) => localHost(n, 'good v2\n', { gate: `grep -q v2 ${path.join(root, n)}/app.conf` })));
    const rec = new RecordingReporter();
    const results = await runRollout(hosts.map((h) => h.host), APPLY, rec);
    expect(statuses(results)).toEqual(['h1 changed', 'h2 changed', 'h3 changed']);
    // batches of one: each host finishes (gates included) before the next starts
    const order = rec.events.filter((e) => e.event === 'hostStart' || e.event === 'hostDone').map((e) => (e.event === 'hostStart' ? `start ${e.host}` : `done ${e.result.host}`));
    expect(order).toEqual(['start h1', 'done h1', 'start h2', 'done h2', 'start h3', 'done h3']);
    for (const r of results) expect(r.gates).toEqual([expect.objectContaining({ passed: true })]);
    for (const h of hosts) expect(await readFile(path.join(h.dir, 'app.conf'), 'utf8')).toBe('good v2\n');
  });

  it('a restore whose handler still fails: `restore failed`, loudly, with what is in place now', async () => {
    const hosts = [await localHost('h1', 'bad v2\n', { handler: 'echo unit refuses to start >&2; exit 1' }), await localHost('h2', 'bad v2\n')];
    const results = await runRollout(hosts.map((h) => h.host), APPLY, new RecordingReporter());
    expect(statuses(results)).toEqual(['h1 restore failed', 'h2 not started']);
    const report = results[0]!.restore!;
    expect(report).toMatchObject({ ok: false, restored: [path.join(hosts[0]!.dir, 'app.conf')], removed: [path.join(hosts[0]!.dir, 'extra.conf')] });
    expect(report.error).toBe('handler "check" failed after the files were put back: unit refuses to start');
    expect(results[0]!.error).toMatch(/; RESTORE FAILED: handler "check" failed after the files were put back/);
    const lines = restoreLines('h1', report);
    expect(lines[0]).toMatch(/^h1: RESTORE FAILED \(\d+\.\d s\): handler "check" failed/);
    expect(lines).toContain(`h1:   put back ${path.join(hosts[0]!.dir, 'app.conf')}`);
    expect(lines[lines.length - 1]).toBe("h1:   in place now: the previous version of 2 paths; check the host by hand");
    // the files are back even though the service is not
    expect(await readFile(path.join(hosts[0]!.dir, 'app.conf'), 'utf8')).toBe('good v1\n');
  });

  it('restore: false leaves the failed host as it is; the failure still stops the rollout', async () => {
    const hosts = [await localHost('h1', 'bad v2\n', { restore: false }), await localHost('h2', 'bad v2\n')];
    const results = await runRollout(hosts.map((h) => h.host), APPLY, new RecordingReporter());
    expect(statuses(results)).toEqual(['h1 failed', 'h2 not started']);
    expect(await readFile(path.join(hosts[0]!.dir, 'app.conf'), 'utf8')).toBe('bad v2\n');
    expect(execs(hosts[0]!)).toBe(2);
  });

  it('max_fail: failures up to the limit let the rollout go on, one more stops it', async () => {
    const mk = async () => [await localHost('a1', 'good v2\n', { unreachable: true }), await localHost('a2', 'good v2\n'), await localHost('a3', 'good v2\n')];
    let hosts = await mk();
    let results = await runRollout(hosts.map((h) => ({ ...h.host, maxFail: 1 })), APPLY, new RecordingReporter());
    expect(statuses(results)).toEqual(['a1 unreachable', 'a2 changed', 'a3 changed']);
    await rm(root, { recursive: true, force: true });
    await mkdir(root);
    hosts = await mk();
    results = await runRollout(hosts.map((h) => ({ ...h.host, serial: ['50%'], maxFail: '50%' })), APPLY, new RecordingReporter());
    // 50% of 3 = 1 host per batch; 50% of a batch of 1 = 0 failures allowed
    expect(statuses(results)).toEqual(['a1 unreachable', 'a2 not started', 'a3 not started']);
  });

  it('Ctrl-C between batches: no new batch starts', async () => {
    const hosts = [await localHost('h1', 'good v2\n'), await localHost('h2', 'good v2\n')];
    const abort = new AbortController();
    const rec = new RecordingReporter();
    rec.hostDone = ((orig) => (r) => {
      orig.call(rec, r);
      if (r.host === 'h1') abort.abort();
    })(rec.hostDone);
    const results = await runRollout(hosts.map((h) => h.host), { ...APPLY, signal: abort.signal }, rec);
    expect(statuses(results)).toEqual(['h1 changed', 'h2 not started']);
    expect(results[1]!.error).toBe('not started: interrupted');
    expect(hosts[1]!.conns).toHaveLength(0);
  });
});
