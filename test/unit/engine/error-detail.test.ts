/**
 * The long form of a host's error (HostResult.detail): a probe or an apply script that
 * fails keeps its whole stderr there, while `error` stays one line. Real `sh` runs: the
 * local connection runs the engine's scripts, after lines that make them fail the way a
 * broken host does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runHost } from '../../../src/engine/host-run.js';
import type { HostJob } from '../../../src/engine/types.js';
import { RecordingReporter } from '../../../src/report/recording.js';
import { directoryResource } from '../../../src/resources/directory.js';
import type { ExecOptions, ExecResult } from '../../../src/transport/connection.js';
import { LocalConnection } from '../../support/local-connection.js';

/** Runs exec number `failing` (1: the probe, 2: the apply) after `prefix`. */
class FailingConnection extends LocalConnection {
  private n = 0;
  constructor(private readonly failing: number, private readonly prefix: string) {
    super('broken');
  }
  override exec(script: string, options?: ExecOptions): Promise<ExecResult> {
    this.n++;
    return super.exec(this.n === this.failing ? `${this.prefix}\n${script}` : script, options);
  }
}

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'provision-detail-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function job(conn: LocalConnection): HostJob {
  const spec = directoryResource.schema.parse({ path: path.join(root, 'd') });
  return {
    name: 'broken',
    steps: [{ index: 0, name: 'd', kind: 'directory', type: directoryResource, spec, notify: [], where: 'p.yaml:1' }],
    handlers: new Map(),
    validateSets: new Map(),
    sudo: false,
    lockFile: path.join(root, 'lock'),
    connect: async () => conn,
  };
}

const RUN = { mode: 'apply' as const, withContent: false, forks: 1, holder: 'controller=test pid=1' };

describe('errors keep their long form', () => {
  it('a failing probe: the first stderr line in `error`, all of it in `detail`', async () => {
    const conn = new FailingConnection(1, "echo 'find: /etc/x: Permission denied' >&2; echo 'find: /etc/y: Permission denied' >&2; exit 2");
    const r = await runHost(job(conn), RUN, new RecordingReporter());
    expect(r.status).toBe('failed');
    expect(r.error).toBe('probe failed (exit 2): find: /etc/x: Permission denied');
    expect(r.detail?.split('\n').slice(0, 2)).toEqual(['find: /etc/x: Permission denied', 'find: /etc/y: Permission denied']);
  });

  it('an apply script that ends early: its whole stderr in `detail`', async () => {
    const conn = new FailingConnection(2, "echo 'sh: 1: cannot fork' >&2; echo 'sh: 2: out of memory' >&2; exit 139");
    const r = await runHost(job(conn), RUN, new RecordingReporter());
    expect(r.status).toBe('failed');
    expect(r.error).toBe('apply script ended early (exit 139: sh: 1: cannot fork) before the apply started; re-run to converge');
    expect(r.detail).toBe('sh: 1: cannot fork\nsh: 2: out of memory');
  });

  it('a host in sync: each step says why, in the outcome and to the reporter', async () => {
    const conn = new LocalConnection();
    const rec = new RecordingReporter();
    const first = await runHost(job(conn), RUN, rec);
    expect(first.steps[0]).toMatchObject({ status: 'changed' });
    expect(first.steps[0]?.reason).toBeUndefined();
    const again = new RecordingReporter();
    const r = await runHost(job(new LocalConnection()), { ...RUN, mode: 'check' }, again);
    expect(r.steps[0]?.reason).toMatch(new RegExp(`^in sync: ${root}/d: directory, mode \\d{4}, \\S+:\\S+$`));
    const plan = again.events.find((e) => e.event === 'hostPlan');
    expect(plan && plan.event === 'hostPlan' ? plan.okReasons : null).toEqual({ 0: r.steps[0]?.reason });
  });
});
