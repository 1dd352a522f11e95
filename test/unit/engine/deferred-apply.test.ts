/**
 * The apply of one host builds its script's text only when the connection asks for it
 * (Connection.execDeferred: once the host's session is open), not when the apply phase
 * begins: with 500 hosts waiting for sshd, none of them holds a script meanwhile. The
 * live output parse still reports every step when the output arrives a few bytes at a time.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { splitScript } from '../../../src/engine/apply-text.js';
import { liveTail } from '../../../src/engine/apply-tail.js';
import { runHost } from '../../../src/engine/host-run.js';
import type { HostJob, ResolvedStep, RunOptions } from '../../../src/engine/types.js';
import { RecordingReporter } from '../../../src/report/recording.js';
import { fileResource } from '../../../src/resources/file.js';
import type { ExecOptions, ExecResult } from '../../../src/transport/connection.js';
import { LocalConnection } from '../../support/local-connection.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'provision-deferred-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A local "session" that opens a turn after exec is asked for, and trickles stdout 7 bytes at a time. */
class SlowSessionConnection extends LocalConnection {
  log: string[] = [];
  /** Called once every chunk was delivered, before the exec's result (and its final parse). */
  onTrickled?: () => void;
  async execDeferred(build: () => string, options: ExecOptions = {}): Promise<ExecResult> {
    this.log.push('session requested');
    await new Promise((r) => setTimeout(r, 20));
    this.log.push('session open');
    const script = build();
    this.log.push('built');
    let carry = '';
    const onStdout = options.onStdout;
    const res = await this.exec(script, { ...options, onStdout: (c) => (carry += c) });
    for (let i = 0; i < carry.length; i += 7) onStdout?.(carry.slice(i, i + 7));
    this.onTrickled?.();
    return res;
  }
}

function fileStep(index: number, name: string): ResolvedStep {
  const spec = fileResource.schema.parse({ dest: path.join(root, name), content: `${name}\n` });
  const prepared = { ...spec, bytes: Buffer.from(`${name}\n`) };
  return { index, name: fileResource.id(prepared), kind: 'file', type: fileResource, spec: prepared, notify: [], where: 'test' };
}

const APPLY: RunOptions = { mode: 'apply', withContent: false, forks: 1, holder: 'controller=test pid=1' };

describe('a deferred apply script', () => {
  it('is built after the session opened; every step is reported live from output arriving in small pieces', async () => {
    const conn = new SlowSessionConnection();
    const job: HostJob = { name: 'local', steps: [fileStep(0, 'a'), fileStep(1, 'b'), fileStep(2, 'c')], handlers: new Map(), validateSets: new Map(), sudo: false, lockFile: path.join(root, 'lock'), connect: async () => conn };
    const rec = new RecordingReporter();
    const doneOf = () => rec.events.filter((e) => e.event === 'stepDone').map((e) => (e.event === 'stepDone' ? `${e.outcome.index} ${e.outcome.status}` : ''));
    let live: string[] = [];
    conn.onTrickled = () => (live = doneOf());
    const r = await runHost(job, APPLY, rec);
    expect(r.error).toBeUndefined();
    expect(r.status).toBe('changed');
    expect(r.execs).toBe(2);
    expect(conn.log).toEqual(['session requested', 'session open', 'built']);
    // The probe went through exec, the apply through execDeferred with the text built late.
    expect(conn.scripts).toHaveLength(2);
    expect(await readFile(path.join(root, 'c'), 'utf8')).toBe('c\n');
    // Reported from the live parse of the pieces, before the exec's result was parsed whole.
    expect(live).toEqual(['0 changed', '1 changed', '2 changed']);
    expect(doneOf()).toEqual(live);
  });
});

describe('splitScript', () => {
  it('builds once for the plan and again for each text asked, and refuses a builder that is not pure', () => {
    let n = 0;
    const build = () => ({ script: { text: `echo ${++n}\n` }, steps: [0], handlers: [], setMembers: new Map(), payloads: n > 2 ? [Buffer.from('x')] : [] }) as never;
    const { plan, text } = splitScript(build);
    expect(n).toBe(1);
    expect(plan).not.toHaveProperty('script');
    expect(text.build()).toBe('echo 2\n');
    expect(() => text.build()).toThrow(/built differently/);
  });
});

describe('liveTail', () => {
  const M = '@@abc ';
  it('keeps only the unfinished line, or a failed line whose encoded output is not complete', () => {
    expect(liveTail(`${M}begin 0\n${M}ok 0\n${M}be`, 'abc')).toBe(`${M}be`);
    expect(liveTail(`${M}begin 0\n`, 'abc')).toBe('');
    expect(liveTail(`${M}begin 1\n${M}failed 1 2\nZXJy`, 'abc')).toBe(`${M}failed 1 2\nZXJy`);
    expect(liveTail(`${M}failed 1 2\nZXJy\n`, 'abc')).toBe('');
    expect(liveTail(`${M}hfailed 0 1\n`, 'abc')).toBe(`${M}hfailed 0 1\n`);
    expect(liveTail('no newline yet', 'abc')).toBe('no newline yet');
  });
});
