import { mkdtemp, readFile, readdir, rm, stat, writeFile, mkdir, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runHost } from '../../../src/engine/host-run.js';
import type { HostJob, ResolvedStep, RunOptions, ValidateSet } from '../../../src/engine/types.js';
import { RecordingReporter } from '../../../src/report/recording.js';
import { commandResource } from '../../../src/resources/command.js';
import { directoryResource } from '../../../src/resources/directory.js';
import { fileResource } from '../../../src/resources/file.js';
import { lineResource } from '../../../src/resources/line.js';
import { symlinkResource } from '../../../src/resources/symlink.js';
import type { ResourceType } from '../../../src/resources/types.js';
import { LocalConnection } from '../../support/local-connection.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'provision-engine-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function step(index: number, type: ResourceType, spec: Record<string, unknown>, extra: Partial<ResolvedStep> = {}): ResolvedStep {
  const s = type.schema.parse(spec);
  const prepared = type.kind === 'file' ? { ...s, bytes: Buffer.from((s as { content?: string }).content ?? '') } : s;
  return { index, name: type.id(prepared), kind: type.kind, type, spec: prepared, notify: [], where: 'test', ...extra };
}

function job(steps: ResolvedStep[], conn: LocalConnection, extra: Partial<HostJob> = {}): HostJob {
  return {
    name: 'local',
    steps,
    handlers: new Map([
      ['touch marker', { name: 'touch marker', kind: 'command', type: commandResource, spec: { cmd: `echo ran >> ${root}/handler.log` } }],
    ]),
    validateSets: new Map(),
    sudo: false,
    lockFile: path.join(root, 'lock'),
    connect: async () => conn,
    ...extra,
  };
}

const APPLY: RunOptions = { mode: 'apply', withContent: false, forks: 1, holder: 'controller=test pid=1' };
const CHECK: RunOptions = { ...APPLY, mode: 'check', withContent: true };

describe('runHost with real sh', () => {
  it('converges file, directory, symlink, line and command steps, then is idempotent in one exec', async () => {
    const conn = new LocalConnection();
    const weird = path.join(root, `we'ird $dir \`x\``);
    const steps = () => [
      step(0, directoryResource, { path: weird, mode: '0750' }),
      step(1, fileResource, { dest: path.join(weird, 'a file\nwith newline'), content: 'hello $USER `id` \'q\'\n', mode: '0640' }, { notify: ['touch marker'] }),
      step(2, symlinkResource, { path: path.join(root, 'link'), target: weird }),
      step(3, fileResource, { dest: path.join(root, 'conf'), content: 'a=1\nb=2\n' }),
      step(4, lineResource, { path: path.join(root, 'conf'), regexp: '^b=', line: 'b=3' }),
      step(5, commandResource, { cmd: `touch ${root}/created`, creates: `${root}/created` }),
    ];
    const rec = new RecordingReporter();
    const first = await runHost(job(steps(), conn), APPLY, rec);
    expect(first.error).toBeUndefined();
    expect(first.status).toBe('changed');
    expect(first.execs).toBe(2);
    expect(first.steps.map((s) => s.status)).toEqual(['changed', 'changed', 'changed', 'changed', 'changed', 'changed']);
    // live displays learn each step as it begins, before its result
    const order = rec.events.filter((e) => e.event === 'stepStart' || e.event === 'stepDone').map((e) => (e.event === 'stepStart' ? `start ${e.index}` : `done ${e.outcome.index}`));
    expect(order.slice(0, 4)).toEqual(['start 0', 'done 0', 'start 1', 'done 1']);
    expect(await readFile(path.join(weird, 'a file\nwith newline'), 'utf8')).toBe('hello $USER `id` \'q\'\n');
    expect(((await stat(weird)).mode & 0o777).toString(8)).toBe('750');
    expect(((await stat(path.join(weird, 'a file\nwith newline'))).mode & 0o777).toString(8)).toBe('640');
    // `line` runs after `file` in the same apply: the guard accepts the file the plan did not see.
    expect(await readFile(path.join(root, 'conf'), 'utf8')).toBe('a=1\nb=3\n');
    expect(await readFile(path.join(root, 'handler.log'), 'utf8')).toBe('ran\n');

    // Second run: the line step's diff now sees b=3, the file step's sha differs -> one-pass
    // convergence is not possible for a file that a later `line` edits; use separate files here.
    const conn2 = new LocalConnection();
    const again = await runHost(job(steps().filter((s) => s.index !== 3), conn2), APPLY, new RecordingReporter());
    expect(again.status).toBe('ok');
    expect(conn2.execs).toBe(1);
    const check = await runHost(job(steps().filter((s) => s.index !== 3), new LocalConnection()), CHECK, new RecordingReporter());
    expect(check.status).toBe('in-sync');
    // no temp files left behind
    expect((await readdir(weird)).filter((f) => f.startsWith('.provision-'))).toEqual([]);
  });

  it('large and binary contents travel as raw payloads after the script, not as base64 inside it', async () => {
    const big = Buffer.alloc(300 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 256; // every byte value, NULs included
    const small = 'small\n';
    const conn = new LocalConnection();
    const steps = [
      step(0, fileResource, { dest: path.join(root, 'big.bin'), content: 'x', mode: '0640' }),
      step(1, fileResource, { dest: path.join(root, 'small.txt'), content: small }),
      step(2, fileResource, { dest: path.join(root, 'big2.bin'), content: 'y' }),
    ];
    // A file step's content is text in YAML; give two of them binary bytes as a download would.
    for (const i of [0, 2]) {
      const spec = steps[i]!.spec as { content: Buffer; bytes: Buffer };
      spec.content = spec.bytes = i === 0 ? big : big.subarray(1000);
    }
    const r = await runHost(job(steps, conn), APPLY, new RecordingReporter());
    expect(r.error).toBeUndefined();
    expect(r.steps.map((s) => s.status)).toEqual(['changed', 'changed', 'changed']);
    expect((await readFile(path.join(root, 'big.bin'))).equals(big)).toBe(true);
    expect((await readFile(path.join(root, 'big2.bin'))).equals(big.subarray(1000))).toBe(true);
    expect(await readFile(path.join(root, 'small.txt'), 'utf8')).toBe(small);
    expect(((await stat(path.join(root, 'big.bin'))).mode & 0o777).toString(8)).toBe('640');
    // The apply script stayed small: the 300 KB went after it, the small file inline (as
    // text, written by the printf builtin: no process).
    const script = conn.scripts[1]!;
    expect(script.length).toBeLessThan(64 * 1024);
    expect(script).toContain(` 'text=${small}' || return 1`);
    // Nothing left in the work dir or beside the targets.
    expect((await readdir(root)).filter((n) => n.startsWith('.provision-'))).toEqual([]);
  });

  it('check reports drift with a content diff, apply repairs it', async () => {
    const dest = path.join(root, 'motd');
    const s = [step(0, fileResource, { dest, content: 'wanted\n' })];
    await runHost(job(s, new LocalConnection()), APPLY, new RecordingReporter());
    await writeFile(dest, 'edited by hand\n');
    const rec = new RecordingReporter();
    const check = await runHost(job(s, new LocalConnection()), CHECK, rec);
    expect(check.status).toBe('drift');
    const change = check.steps[0]!.change!;
    expect(change.reason).toBe('content differs');
    expect(change.content).toMatchObject({ before: 'edited by hand\n', after: 'wanted\n' });
    const fix = await runHost(job(s, new LocalConnection()), APPLY, new RecordingReporter());
    expect(fix.status).toBe('changed');
    expect(await readFile(dest, 'utf8')).toBe('wanted\n');
  });

  it('a failing validate leaves the old file in place and stops later steps', async () => {
    const dest = path.join(root, 'app.conf');
    await writeFile(dest, 'good\n');
    const s = [
      step(0, fileResource, { dest, content: 'bad\n', validate: 'grep -q good %s' }),
      step(1, fileResource, { dest: path.join(root, 'later'), content: 'x' }),
    ];
    const r = await runHost(job(s, new LocalConnection()), APPLY, new RecordingReporter());
    expect(r.status).toBe('failed');
    expect(r.steps.map((x) => x.status)).toEqual(['failed', 'skipped']);
    expect(r.error).toContain('validation failed');
    expect(await readFile(dest, 'utf8')).toBe('good\n');
    expect((await readdir(root)).sort()).toEqual(['app.conf', 'lock']);
  });

  it('a validate script that fails: its own reason and the file, not the script text', async () => {
    const dest = path.join(root, 'sshd.conf');
    const validate = "echo 'sshd would not apply `passwordauthentication no`; sshd -T says: passwordauthentication yes' >&2\ngrep -q good %s";
    const r = await runHost(job([step(0, fileResource, { dest, content: 'bad\n', validate })], new LocalConnection()), APPLY, new RecordingReporter());
    expect(r.steps[0]!.error).toBe(`sshd would not apply \`passwordauthentication no\`; sshd -T says: passwordauthentication yes\nvalidation failed for ${dest}`);
    expect(r.error).toBe(`step "file ${dest}" failed: sshd would not apply \`passwordauthentication no\`; sshd -T says: passwordauthentication yes`);
  });

  it('validation sets: staged together, validated as a set, installed only if the set is valid', async () => {
    const main = path.join(root, 'main.cfg');
    const dir = path.join(root, 'conf.d');
    await mkdir(dir);
    await writeFile(path.join(dir, 'existing.cfg'), 'use backend_b\n');
    // "valid" = every `use X` in conf.d names a backend defined in main.cfg
    const command = `for f in {confd}/*.cfg; do b=$(sed -n 's/^use //p' "$f"); grep -qx "backend $b" {main} || { echo "unknown backend $b in $f, checked against "{main}; exit 1; }; done`;
    const sets = new Map<string, ValidateSet>([['demo', { name: 'demo', command, paths: { main, confd: dir } }]]);
    const mk = (mainText: string, newText: string) => [
      step(0, fileResource, { dest: main, content: mainText, validate_set: 'demo' }, { validateSet: 'demo' }),
      step(1, fileResource, { dest: path.join(dir, 'new.cfg'), content: newText, validate_set: 'demo' }, { validateSet: 'demo' }),
    ];
    const bad = await runHost(job(mk('backend backend_a\n', 'use backend_a\n'), new LocalConnection(), { validateSets: sets }), APPLY, new RecordingReporter());
    expect(bad.status).toBe('failed');
    // The validator read the staged copies; the message names the real files.
    expect(bad.steps[1]!.error).toContain(`unknown backend backend_b in ${dir}/existing.cfg, checked against ${main}`);
    expect(bad.steps[1]!.error).not.toContain('.provision-');
    expect(bad.steps[0]!.status).toBe('failed');
    await expect(stat(main)).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(['existing.cfg']);
    expect((await readdir(root)).filter((f) => f.startsWith('.provision-'))).toEqual([]);

    const good = await runHost(job(mk('backend backend_a\nbackend backend_b\n', 'use backend_a\n'), new LocalConnection(), { validateSets: sets }), APPLY, new RecordingReporter());
    expect(good.error).toBeUndefined();
    expect(good.status).toBe('changed');
    expect((await readdir(dir)).sort()).toEqual(['existing.cfg', 'new.cfg']);
  });

  it('a second apply on a locked host fails fast naming the holder', async () => {
    const lock = path.join(root, 'lock');
    await writeFile(lock, 'controller=elsewhere user=ops pid=42 started=2026-01-01T00:00:00Z\n');
    const { spawn } = await import('node:child_process');
    const holder = spawn('flock', ['-n', lock, 'sleep', '5'], { stdio: 'ignore', detached: true });
    await new Promise((r) => setTimeout(r, 200));
    try {
      const r = await runHost(job([step(0, fileResource, { dest: path.join(root, 'f'), content: 'x' })], new LocalConnection()), APPLY, new RecordingReporter());
      expect(r.status).toBe('failed');
      expect(r.error).toContain('locked by another run: controller=elsewhere user=ops pid=42');
    } finally {
      process.kill(-holder.pid!, 'SIGKILL');
    }
  });

  it('replaces a symlink target atomically and reports a directory in the way', async () => {
    await mkdir(path.join(root, 'a'));
    await mkdir(path.join(root, 'b'));
    await symlink(path.join(root, 'a'), path.join(root, 'cur'));
    const r = await runHost(job([step(0, symlinkResource, { path: path.join(root, 'cur'), target: path.join(root, 'b') })], new LocalConnection()), APPLY, new RecordingReporter());
    expect(r.status).toBe('changed');
    const { readlink } = await import('node:fs/promises');
    expect(await readlink(path.join(root, 'cur'))).toBe(path.join(root, 'b'));
  });

  it('a handler that did not complete is remembered on the host and run by the next apply', async () => {
    const dest = path.join(root, 'app.conf');
    const flaky = new Map([
      ['touch marker', { name: 'touch marker', kind: 'command', type: commandResource, spec: { cmd: `test -e ${root}/handler-ok && echo ran >> ${root}/handler.log` } }],
    ]);
    const s = [step(0, fileResource, { dest, content: 'v2\n' }, { notify: ['touch marker'] })];
    const first = await runHost(job(s, new LocalConnection(), { handlers: flaky }), APPLY, new RecordingReporter());
    expect(first.status).toBe('failed');
    expect(first.handlers).toEqual([expect.objectContaining({ name: 'touch marker', status: 'failed' })]);
    expect(await readFile(dest, 'utf8')).toBe('v2\n');

    // The file is in sync now, but the handler is still owed: check says so, apply runs it.
    const check = await runHost(job(s, new LocalConnection(), { handlers: flaky }), CHECK, new RecordingReporter());
    expect(check.status).toBe('drift');
    expect(check.pendingHandlers).toEqual(['touch marker']);
    await writeFile(path.join(root, 'handler-ok'), '');
    const conn = new LocalConnection();
    const second = await runHost(job(s, conn, { handlers: flaky }), APPLY, new RecordingReporter());
    expect(second.error).toBeUndefined();
    expect(second.status).toBe('changed');
    expect(conn.execs).toBe(2);
    expect(await readFile(path.join(root, 'handler.log'), 'utf8')).toBe('ran\n');

    // Done: forgotten. The next run is a one-exec no-op.
    const conn3 = new LocalConnection();
    const third = await runHost(job(s, conn3, { handlers: flaky }), APPLY, new RecordingReporter());
    expect(third.status).toBe('ok');
    expect(conn3.execs).toBe(1);
    expect(await readFile(path.join(root, 'handler.log'), 'utf8')).toBe('ran\n');
  });
});
