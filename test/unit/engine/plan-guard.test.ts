/**
 * Saved plans on a local "host" with real sh: the probe's fact digests are stable run to
 * run, a host changed by hand since the plan is refused before its apply, a host changed
 * between the probe and the apply is refused by the check inside the apply exec (under
 * the lock), and an unchanged host applies in the usual two execs.
 */
import { writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runHost } from '../../../src/engine/host-run.js';
import { factDigests, staleFacts, stepDigest, inApplyGuard } from '../../../src/engine/plan-guard.js';
import { planFileSchema, planText } from '../../../src/engine/plan-format.js';
import type { HostJob, PlanGuard, RunOptions } from '../../../src/engine/types.js';
import { RecordingReporter } from '../../../src/report/recording.js';
import { fileResource } from '../../../src/resources/file.js';
import { LocalConnection } from '../../support/local-connection.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'provision-plan-'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

const OPTS: RunOptions = { mode: 'check', withContent: true, forks: 1, holder: 'controller=test pid=1' };

function job(conn: LocalConnection, content = 'new\n'): HostJob {
  const spec = fileResource.schema.parse({ dest: path.join(root, 'app.conf'), content }) as Record<string, unknown>;
  return {
    name: 'h',
    steps: [
      { index: 0, name: 'app.conf', kind: 'file', type: fileResource, spec: { ...spec, bytes: Buffer.from(content) }, notify: [], where: 't' },
      { index: 1, name: 'other', kind: 'file', type: fileResource, spec: { ...fileResource.schema.parse({ dest: path.join(root, 'other'), content: 'x\n' }) as object, bytes: Buffer.from('x\n') }, notify: [], where: 't' },
    ],
    handlers: new Map(),
    validateSets: new Map(),
    sudo: false,
    lockFile: path.join(root, 'lock'),
    connect: async () => conn,
  };
}

/** The plan's facts of the host (a check with diffs, as `provision plan` runs it). */
async function plan(): Promise<Record<string, string>> {
  let facts: Record<string, string> = {};
  const guard: PlanGuard = { onProbe: (j, out, nonce) => ((facts = factDigests(j, true, out, nonce)), null) };
  const r = await runHost(job(new LocalConnection()), { ...OPTS, planGuard: guard }, new RecordingReporter());
  expect(r.status).toBe('drift');
  return facts;
}

function applyGuard(planned: Record<string, string>, afterProbe?: () => void): PlanGuard {
  return {
    onProbe: (j, out, nonce) => {
      const stale = staleFacts(planned, factDigests(j, false, out, nonce));
      return stale.length ? `stale: ${stale.join(', ')}` : null;
    },
    inApply: (j, nonce, out) => {
      afterProbe?.();
      return inApplyGuard(j, false, nonce, out);
    },
  };
}

describe('saved plans: the host side', () => {
  beforeEach(async () => {
    await writeFile(path.join(root, 'app.conf'), 'old\n');
  });

  it('fact digests are the same run to run when nothing changed', async () => {
    expect(await plan()).toEqual(await plan());
  });

  it('an unchanged host applies the plan in two execs', async () => {
    const facts = await plan();
    const conn = new LocalConnection();
    const r = await runHost(job(conn), { ...OPTS, mode: 'apply', withContent: false, planGuard: applyGuard(facts) }, new RecordingReporter());
    expect(r.error).toBeUndefined();
    expect(r.status).toBe('changed');
    expect(conn.execs).toBe(2);
    expect(await readFile(path.join(root, 'app.conf'), 'utf8')).toBe('new\n');
  });

  it('a host changed by hand since the plan is refused before its apply, naming what differs', async () => {
    const facts = await plan();
    await writeFile(path.join(root, 'app.conf'), 'edited by hand\n');
    const conn = new LocalConnection();
    const r = await runHost(job(conn), { ...OPTS, mode: 'apply', withContent: false, planGuard: applyGuard(facts) }, new RecordingReporter());
    expect(r.status).toBe('failed');
    expect(r.error).toBe(`stale: stat ${path.join(root, 'app.conf')}, sha256 ${path.join(root, 'app.conf')}`);
    expect(conn.execs).toBe(1);
    expect(await readFile(path.join(root, 'app.conf'), 'utf8')).toBe('edited by hand\n');
  });

  it('a change between the probe and the apply is caught inside the apply exec; nothing is changed', async () => {
    const facts = await plan();
    const conn = new LocalConnection();
    // The generator runs before the apply exec starts: the file changes after the probe.
    const guard = applyGuard(facts, () => writeFileSync(path.join(root, 'app.conf'), 'changed in between\n'));
    const r = await runHost(job(conn), { ...OPTS, mode: 'apply', withContent: false, planGuard: guard }, new RecordingReporter());
    expect(r.status).toBe('failed');
    expect(r.error).toBe('refused: the host changed between the probe and the apply (stale plan); nothing was changed');
    expect(conn.execs).toBe(2);
    expect(await readFile(path.join(root, 'app.conf'), 'utf8')).toBe('changed in between\n');
  });

  it('step digests follow the desired content; the plan schema and text', () => {
    const a = job(new LocalConnection(), 'one\n').steps[0]!.spec;
    const b = job(new LocalConnection(), 'two\n').steps[0]!.spec;
    expect(stepDigest(a)).toBe(stepDigest(job(new LocalConnection(), 'one\n').steps[0]!.spec));
    expect(stepDigest(a)).not.toBe(stepDigest(b));
    expect(JSON.stringify(stepDigest(a))).not.toContain('one');
    const file = {
      format: 'provision-plan', version: 1, created: 'now', inventory: '/inv.yaml', limit: null,
      hosts: [{ host: 'lb-1', fingerprint: 'a'.repeat(64), facts: { sha256: 'b'.repeat(64) }, steps: [], pending_handlers: [], secrets: ['consul_encrypt'],
        changes: [{ step: 0, name: 'x', id: 'file /etc/x', kind: 'file', action: 'update', reason: 'content differs', payload_sha256: 'c'.repeat(64) }] }],
    };
    const parsed = planFileSchema.parse(file);
    expect(planText(parsed)).toContain('update file /etc/x (content differs) sha256 cccccccccccccccc');
    expect(planText(parsed)).toContain('depends on secrets: consul_encrypt (values not stored)');
    expect(planFileSchema.safeParse({ ...file, version: 2 }).success).toBe(false);
  });
});
