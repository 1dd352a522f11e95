/**
 * Faults on real Debian hosts (issue 6): a second concurrent apply, a stale lock left by a
 * killed controller (`--break-lock`), Ctrl-C on several hosts, the SSH session killed in
 * the middle of a step, a full disk, and hosts that are down, refuse the key or time out.
 * One lab of three hosts for the whole file; the faults that break a host come last.
 *
 * The playbook's slow step waits for a gate file the test creates on the host, so every
 * fault is injected while that step is known to be running (no sleeps, no timing).
 */
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab, type TestHost } from '../hosts/harness.js';
import { budget, phase, timeoutFor, within, WORK } from '../support/budget.js';
import { runCli, type CliResult } from '../support/cli.js';
import { startCli, writeFaultInventory, type FaultInventory } from './support.js';

const ROOT = '/srv/fault';
const LOCK = '/run/lock/provision.lock';
let lab: Lab;
let f1: TestHost;
let f2: TestHost;
let f3: TestHost;
let dir: string;
let seq = 0;

async function sh(host: TestHost, command: string): Promise<string> {
  return (await lab.ssh(host, command)).stdout;
}

async function inventory(inv: Omit<FaultInventory, 'hosts'> & { hosts?: FaultInventory['hosts'] }): Promise<string> {
  const hosts = inv.hosts ?? { f1: f1.address, f2: f2.address, f3: f3.address };
  return writeFaultInventory(lab, dir, `inv-${++seq}`, { ...inv, hosts });
}

function provision(...args: string[]): Promise<CliResult> {
  return runCli(args, { timeoutMs: WORK.apply });
}

/** Polls a host until `command` succeeds (the remote side settles on its own). */
async function until(host: TestHost, command: string, what: string): Promise<void> {
  phase(`${host.name}: waiting for ${what}`);
  // Bounded by time, not by a count of tries: each try is an ssh round trip, slow under load.
  for (const deadline = Date.now() + WORK.converge; Date.now() < deadline; ) {
    if ((await lab.ssh(host, command, { allowFail: true })).exitCode === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${host.name}: timed out waiting for ${what}`);
}

/** Nothing staged or half-written is left: no `.provision-*` in the managed dir or /tmp. */
async function expectNoLeftovers(host: TestHost): Promise<void> {
  const left = await sh(host, `ls -A ${ROOT} /tmp | grep -F .provision- || true`);
  // On failure, say what is left and what still runs, so a CI log alone explains it.
  const why = left ? await sh(host, `ls -la /tmp/.provision-* ${ROOT}; ps -eo pid,pgid,stat,etime,args; cat ${LOCK}`) : '';
  expect(left, why).toBe('');
}

/** The lock is free (another flock gets it at once) and holds no holder line. */
async function expectLockReleased(host: TestHost): Promise<void> {
  expect(await sh(host, `flock -n ${LOCK} echo free; wc -c < ${LOCK}`)).toBe('free\n0\n');
}

const SETUP = budget(WORK.image, WORK.boot, WORK.apply);
beforeAll(within(SETUP, async () => {
  phase('booting 3 hosts');
  lab = await startLab({ hosts: ['f1', 'f2', 'f3'] });
  [f1, f2, f3] = lab.hosts as [TestHost, TestHost, TestHost];
  dir = path.join(lab.runDir, 'faults');
  const first = await provision('apply', await inventory({ round: 1 }));
  expect(first.code, first.output).toBe(0);
}), timeoutFor(SETUP));

afterAll(async () => {
  await lab?.teardown();
}, 120_000);

describe('the lock', () => {
  it('a second apply on the same host fails fast naming the holder; the first completes', within(budget(2 * WORK.apply, WORK.inspect), async () => {
    const inv = await inventory({ round: 2, gate: true, hosts: { f1: f1.address } });
    const first = startCli(['apply', inv]);
    await first.waitFor(/f1: changed first file/);
    const second = await provision('apply', inv);
    expect(second.code, second.output).toBe(1);
    const holder = new RegExp(
      `f1: failed: host is locked by another run: controller=${os.hostname()} user=${os.userInfo().username} pid=${first.child.pid} started=\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z remote_pid=\\d+ .*\\(running, its controller connected\\)`,
    );
    expect(second.output).toMatch(holder);
    await sh(f1, `touch ${ROOT}/go-2`);
    const done = await first.done;
    expect(done.code, done.output).toBe(0);
    await expectLockReleased(f1);
  }), timeoutFor(budget(2 * WORK.apply, WORK.inspect)));

  it('a lock left by a killed controller is reported stale, and --break-lock stops its holder and proceeds', within(budget(4 * WORK.apply, WORK.inspect), async () => {
    const inv = await inventory({ round: 3, gate: true, hosts: { f1: f1.address } });
    const killed = startCli(['apply', inv]);
    await killed.waitFor(/f1: changed first file/);
    killed.child.kill('SIGKILL');
    await killed.done;
    // The remote apply keeps waiting in its step; its SSH session goes away with the controller.
    const holderPid = (await sh(f1, `sed -n 's/.*remote_pid=\\([0-9]*\\).*/\\1/p' ${LOCK}`)).trim();
    expect(holderPid).toMatch(/^\d+$/);
    await until(f1, `s=$(sed -n 's/.*session=\\([0-9]*\\).*/\\1/p' ${LOCK}); [ -n "$s" ] && [ ! -d /proc/$s ]`, 'the killed run\'s SSH session to end');

    const next = await inventory({ round: 3, hosts: { f1: f1.address } });
    const refused = await provision('apply', next);
    expect(refused.code, refused.output).toBe(1);
    expect(refused.output).toContain(`host is locked by another run: controller=${os.hostname()} user=${os.userInfo().username} pid=${killed.child.pid} `);
    expect(refused.output).toContain(`(stale: its controller is gone (SSH session`);
    expect(refused.output).toContain('re-run with --break-lock');
    expect(await sh(f1, `kill -0 ${holderPid} && echo alive`)).toBe('alive\n');

    const broke = await provision('apply', next, '--break-lock');
    expect(broke.code, broke.output).toBe(0);
    expect(broke.output).toContain(`f1: note: broke a stale lock held by: controller=${os.hostname()}`);
    expect(broke.output).toMatch(/f1: note: broke a stale lock held by: .* work=\/tmp\/\.provision-\w+\.\w+; its apply (stopped on SIGTERM and removed what it had staged|did not stop on SIGTERM and was killed; what it had staged was removed for it)$/m);
    // The stale shell and its waiting step are gone; nothing it staged is left.
    expect(await sh(f1, `kill -0 ${holderPid} 2>/dev/null && echo alive; pgrep -f 'go-[3]' || true`)).toBe('');
    await expectNoLeftovers(f1);
    await expectLockReleased(f1);
    const check = await provision('check', next);
    expect(check.code, check.output).toBe(0);
  }), timeoutFor(budget(4 * WORK.apply, WORK.inspect))); // a holder that ignores SIGTERM gets 30 s before SIGKILL

  it('--break-lock never touches a live run', within(budget(2 * WORK.apply, WORK.inspect), async () => {
    const inv = await inventory({ round: 4, gate: true, hosts: { f1: f1.address } });
    const live = startCli(['apply', inv]);
    await live.waitFor(/f1: changed first file/);
    const second = await provision('apply', inv, '--break-lock');
    expect(second.code, second.output).toBe(1);
    expect(second.output).toContain('--break-lock only clears stale locks');
    await sh(f1, `touch ${ROOT}/go-4`);
    expect((await live.done).code).toBe(0);
  }), timeoutFor(budget(2 * WORK.apply, WORK.inspect)));
});

describe('Ctrl-C', () => {
  it('on several hosts: running steps finish, no new step or host starts, locks released, partial hosts listed, exit 130', within(budget(3 * WORK.apply, WORK.inspect), async () => {
    // forks 2: f1 and f2 run, f3 waits for a slot and must never start.
    const inv = await inventory({ round: 5, gate: true, forks: 2 });
    const json = path.join(dir, 'ctrl-c.json');
    const second = new Map<string, string>();
    for (const h of [f1, f2]) second.set(h.name, await sh(h, `cat ${ROOT}/second.conf`));
    const run = startCli(['apply', inv, '--json', json]);
    await run.waitFor(/f1: changed first file/);
    await run.waitFor(/f2: changed first file/);
    run.child.kill('SIGINT');
    // The controller tells each remote apply to stop; only then is the running step released.
    for (const h of [f1, f2]) await until(h, 'ls /tmp/.provision-*/stop', 'the stop flag').catch((e: Error) => {
      throw new Error(`${e.message}; CLI output so far:\n${run.output()}`);
    });
    for (const h of [f1, f2]) await sh(h, `touch ${ROOT}/go-5`);
    const r = await run.done;
    expect(r.code, r.output).toBe(130);
    expect(r.output).toContain('interrupted: finishing running steps');
    for (const h of ['f1', 'f2']) expect(r.output).toContain(`${h}: interrupted: 2 steps not run, from "second file" on; re-run to converge`);
    expect(r.output).toContain('f3: not started: interrupted');
    expect(r.output).toContain('partial (interrupted between steps; re-run to converge): f1, f2');
    const report = JSON.parse(await readFile(json, 'utf8')) as { hosts: { host: string; status: string; steps: { name: string; status: string }[] }[] };
    expect(report.hosts.map((h) => [h.host, h.status])).toEqual([['f1', 'partial'], ['f2', 'partial'], ['f3', 'interrupted']]);
    expect(report.hosts[0]!.steps.map((s) => [s.name, s.status])).toEqual([
      ['fault dir', 'ok'],
      ['first file', 'changed'],
      ['slow step', 'changed'],
      ['second file', 'skipped'],
      ['third file', 'skipped'],
    ]);
    for (const h of [f1, f2]) {
      // The running step finished; the next one never started; the old files are intact.
      expect(await sh(h, `cat ${ROOT}/first.conf ${ROOT}/second.conf; ls ${ROOT}/slow-5`)).toBe(`round=5\n${second.get(h.name)}${ROOT}/slow-5\n`);
      await expectNoLeftovers(h);
      await expectLockReleased(h);
    }
    expect(await sh(f3, `cat ${ROOT}/first.conf`)).toBe('round=1\n');
    await sh(f3, `touch ${ROOT}/go-5`);
    const again = await provision('apply', inv);
    expect(again.code, again.output).toBe(0);
    const check = await provision('check', inv);
    expect(check.code, check.output).toBe(0);
  }), timeoutFor(budget(3 * WORK.apply, WORK.inspect)));
});

describe('the SSH session killed in the middle of a step', () => {
  it('leaves no half-written file, stops before the next step, releases the lock; the next apply converges', within(budget(3 * WORK.apply, WORK.inspect), async () => {
    const inv = await inventory({ round: 6, gate: true, hosts: { f2: f2.address } });
    const old = await sh(f2, `cat ${ROOT}/second.conf ${ROOT}/third.conf`);
    const run = startCli(['apply', inv]);
    await run.waitFor(/f2: changed first file/);
    // The apply's own session: the sshd parent of the shell recorded in the lock file.
    const session = (await sh(f2, `sed -n 's/.*session=\\([0-9]*\\).*/\\1/p' ${LOCK}`)).trim();
    expect(await sh(f2, `cat /proc/${session}/comm`)).toBe('sshd\n');
    await sh(f2, `kill -9 ${session}`);
    const r = await run.done;
    expect(r.code, r.output).toBe(1);
    expect(r.output).toContain('f2: failed: connection lost during step "slow step"; re-run to converge');
    // The remote shell is still in its step; released, it must not start the next one.
    await sh(f2, `touch ${ROOT}/go-6`);
    await until(f2, `flock -n ${LOCK} true`, 'the orphaned apply to exit and release the lock');
    expect(await sh(f2, `cat ${ROOT}/first.conf ${ROOT}/second.conf ${ROOT}/third.conf; ls ${ROOT}/slow-6`)).toBe(
      `round=6\n${old}${ROOT}/slow-6\n`,
    );
    await expectNoLeftovers(f2);
    const again = await provision('apply', inv);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain('f2: changed second file');
    const check = await provision('check', inv);
    expect(check.code, check.output).toBe(0);
  }), timeoutFor(budget(3 * WORK.apply, WORK.inspect)));
});

describe('a full disk', () => {
  it('fails the write cleanly: the old file intact, no temp file left, the next apply converges', within(budget(2 * WORK.apply, WORK.inspect), async () => {
    const old = await sh(f3, `cat ${ROOT}/second.conf`);
    // A 64 KiB tmpfs over the managed dir, holding the current files, then filled up to
    // leave room for the small files only.
    await sh(
      f3,
      `set -e; cp -a ${ROOT} /root/fault-copy; mount -t tmpfs -o size=64k tmpfs ${ROOT}; cp -a /root/fault-copy/. ${ROOT}/; ` +
        `dd if=/dev/zero of=${ROOT}/fill bs=1k 2>/dev/null || true; truncate -s -16k ${ROOT}/fill; sync`,
    );
    const filler = 'x'.repeat(100 * 1024);
    const inv = await inventory({ round: 7, filler, hosts: { f3: f3.address } });
    const r = await provision('apply', inv);
    expect(r.code, r.output).toBe(1);
    expect(r.output).toMatch(/f3: failed: step "second file" failed: .*(No space left on device|cannot write)/);
    expect(await sh(f3, `cat ${ROOT}/first.conf ${ROOT}/second.conf`)).toBe(`round=7\n${old}`);
    await expectNoLeftovers(f3);
    await expectLockReleased(f3);
    await sh(f3, `umount ${ROOT}`);
    const again = await provision('apply', inv);
    expect(again.code, again.output).toBe(0);
    expect(await sh(f3, `wc -c < ${ROOT}/second.conf`)).toBe(`${'round=7\n'.length + filler.length}\n`);
  }), timeoutFor(budget(2 * WORK.apply, WORK.inspect)));
});

describe('hosts that are down, refuse the key, or time out', () => {
  it('the others complete; the summary and the JSON report give each failure its reason; exit 1', within(budget(1 * WORK.apply, WORK.inspect), async () => {
    // A "host" that accepts TCP and never speaks SSH: the handshake times out.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, lab.controllerAddress, r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      await sh(f2, 'systemctl stop ssh.service');
      await sh(f3, 'rm /root/.ssh/authorized_keys');
      const inv = await inventory({
        round: 8,
        connectTimeout: 3,
        hosts: { f1: f1.address, down: f2.address, nokey: f3.address, silent: { address: lab.controllerAddress, port } },
      });
      const json = path.join(dir, 'unreachable.json');
      const r = await provision('apply', inv, '--json', json);
      expect(r.code, r.output).toBe(1);
      expect(r.output).toMatch(/down: unreachable: .*connection refused/);
      expect(r.output).toMatch(/nokey: unreachable: .*authentication failed for root/);
      expect(r.output).toMatch(/silent: unreachable: .*timed out/);
      expect(r.output).toMatch(/^f1\s+changed\s/m);
      const report = JSON.parse(await readFile(json, 'utf8')) as { hosts: { host: string; status: string; error: string | null }[] };
      const by = new Map(report.hosts.map((h) => [h.host, h]));
      expect(by.get('f1')).toMatchObject({ status: 'changed', error: null });
      expect(by.get('down')).toMatchObject({ status: 'unreachable', error: expect.stringContaining('connection refused') });
      expect(by.get('nokey')).toMatchObject({ status: 'unreachable', error: expect.stringContaining('authentication failed') });
      expect(by.get('silent')).toMatchObject({ status: 'unreachable', error: expect.stringContaining('timed out') });
      expect(await sh(f1, `cat ${ROOT}/first.conf`)).toBe('round=8\n');
    } finally {
      silent.close();
    }
  }), timeoutFor(budget(1 * WORK.apply, WORK.inspect)));
});
