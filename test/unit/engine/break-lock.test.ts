/**
 * `--break-lock` with real sh: a stale holder (its "session", the shell that started it,
 * killed) is stopped with SIGTERM and cleans up through its own EXIT trap; one that
 * ignores SIGTERM is killed, and the breaker removes what it had staged and its work dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runHost } from '../../../src/engine/host-run.js';
import type { HostJob, ResolvedStep, RunOptions } from '../../../src/engine/types.js';
import { RecordingReporter } from '../../../src/report/recording.js';
import { commandResource } from '../../../src/resources/command.js';
import { fileResource } from '../../../src/resources/file.js';
import type { ResourceType } from '../../../src/resources/types.js';
import type { Connection, ExecOptions, ExecResult } from '../../../src/transport/connection.js';
import { LocalConnection } from '../../support/local-connection.js';

/**
 * Runs each script under a wrapper shell in its own process group, as sshd would: the
 * wrapper stands for the SSH session, so killing it makes the apply's lock stale.
 */
class SessionConnection implements Connection {
  readonly hostName = 'local';
  sessions: ChildProcess[] = [];
  exec(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve) => {
      // `; :` keeps the wrapper from exec'ing sh, so it stays the apply's parent.
      const child = spawn('/bin/sh', ['-c', '/bin/sh -s; :'], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      this.sessions.push(child);
      let stdout = '';
      child.stdout!.setEncoding('utf8').on('data', (c: string) => {
        stdout += c;
        options.onStdout?.(c);
      });
      child.stderr!.resume();
      child.on('close', (code, signal) => resolve({ exitCode: code, signal, stdout, stderr: '', durationMs: 0, connectionLost: false }));
      child.stdin!.end(script);
    });
  }
  async close(): Promise<void> {}
}

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'provision-breaklock-'));
});
afterEach(async () => {
  await writeFile(path.join(root, 'go'), '');
  await rm(root, { recursive: true, force: true });
});

function step(index: number, type: ResourceType, spec: Record<string, unknown>, extra: Partial<ResolvedStep> = {}): ResolvedStep {
  const s = type.schema.parse(spec);
  const prepared = type.kind === 'file' ? { ...s, bytes: Buffer.from((s as { content?: string }).content ?? '') } : s;
  return { index, name: type.id(prepared), kind: type.kind, type, spec: prepared, notify: [], where: 'test', ...extra };
}

/** Two files of one validation set around a step that waits for `go`: the first file stays staged meanwhile. */
function job(conn: Connection, waitCmd: string): HostJob {
  return {
    name: 'local',
    steps: [
      step(0, fileResource, { dest: path.join(root, 'a.cfg'), content: 'a\n', validate_set: 'cfg' }, { validateSet: 'cfg' }),
      step(1, commandResource, { cmd: waitCmd, creates: path.join(root, 'waited') }),
      step(2, fileResource, { dest: path.join(root, 'b.cfg'), content: 'b\n', validate_set: 'cfg' }, { validateSet: 'cfg' }),
    ],
    handlers: new Map(),
    validateSets: new Map([['cfg', { name: 'cfg', command: 'true', paths: {} }]]),
    sudo: false,
    lockFile: path.join(root, 'lock'),
    connect: async () => conn,
  };
}

const APPLY: RunOptions = { mode: 'apply', withContent: false, forks: 1, holder: 'controller=test pid=1' };

async function until(what: string, cond: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function leftovers(): Promise<string[]> {
  return (await readdir(root)).filter((n) => n.startsWith('.provision-'));
}

/** Starts a holder, waits until it is in its waiting step, then kills its session. */
async function staleHolder(waitCmd: string): Promise<{ work: string; holderDone: Promise<unknown> }> {
  const conn = new SessionConnection();
  let ended: unknown = null;
  const holderDone = runHost(job(conn, waitCmd), APPLY, new RecordingReporter()).then((r) => (ended = r));
  await until('the holder to reach its waiting step', async () => {
    if (ended) throw new Error(`the holder ended early: ${JSON.stringify(ended)}`);
    return existsSync(path.join(root, 'waiting'));
  });
  expect(await leftovers()).toEqual([expect.stringMatching(/^\.provision-[0-9a-f]+\.a\.cfg$/)]);
  const line = await readFile(path.join(root, 'lock'), 'utf8');
  const work = /work=(\S+)/.exec(line)?.[1] ?? '';
  expect(work).toMatch(/^\/tmp\/\.provision-[0-9a-f]+\.\w+$/);
  expect(existsSync(path.join(work, 'cleanup'))).toBe(true);
  const session = conn.sessions.at(-1)!; // the apply (the first was the probe)
  session.kill('SIGKILL');
  await until('the session to end', () => session.signalCode !== null);
  return { work, holderDone };
}

describe('--break-lock on a stale holder', () => {
  const wait = (ignoreTerm: boolean) =>
    `${ignoreTerm ? "trap '' TERM; " : ''}touch ${root}/waiting; until [ -e ${root}/go ]; do sleep 0.05; done; touch ${root}/waited`;

  it('stops a holder with SIGTERM: its own EXIT trap removes what it staged', async () => {
    const { work, holderDone } = await staleHolder(wait(false));
    const refused = await runHost(job(new LocalConnection(), 'true'), APPLY, new RecordingReporter());
    expect(refused.error).toMatch(/^host is locked by another run: controller=test pid=1 remote_pid=\d+ .* \(stale: its controller is gone/);

    const broke = await runHost(job(new LocalConnection(), `touch ${root}/waited`), { ...APPLY, breakLock: true, breakLockGraceS: 5 }, new RecordingReporter());
    expect(broke.error).toBeUndefined();
    expect(broke.notes).toEqual([expect.stringMatching(/^broke a stale lock held by: controller=test pid=1 .*; its apply stopped on SIGTERM and removed what it had staged$/)]);
    await holderDone;
    expect(await leftovers()).toEqual([]);
    expect(existsSync(work)).toBe(false);
    expect(await readFile(path.join(root, 'a.cfg'), 'utf8')).toBe('a\n');
  });

  it('kills a holder that ignores SIGTERM, then removes what it staged and its work dir for it', async () => {
    const { work, holderDone } = await staleHolder(wait(true));
    const broke = await runHost(job(new LocalConnection(), `touch ${root}/waited`), { ...APPLY, breakLock: true, breakLockGraceS: 1 }, new RecordingReporter());
    expect(broke.error).toBeUndefined();
    expect(broke.notes).toEqual([expect.stringMatching(/; its apply did not stop on SIGTERM and was killed; what it had staged was removed for it$/)]);
    await holderDone;
    expect(await leftovers()).toEqual([]);
    expect(existsSync(work)).toBe(false);
    // The breaker's own apply went through.
    expect(await readFile(path.join(root, 'b.cfg'), 'utf8')).toBe('b\n');
  });
});
