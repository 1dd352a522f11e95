/**
 * Bastions at scale: one shared connection per jump host, tunnels queued under its limit,
 * two-hop chains, host keys checked on every hop, and no file descriptor left behind.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostKeyError } from '../../src/config/errors.js';
import type { Connection } from '../../src/transport/connection.js';
import { connectSsh, JumpPool } from '../../src/transport/ssh.js';
import { processTree, startSshd, targetFor, type SshdFixture } from '../support/sshd.js';
import { budget, timeoutFor, WORK } from '../support/budget.js';

let bastion: SshdFixture;
let inner: SshdFixture;
let target: SshdFixture;

beforeAll(async () => {
  [bastion, inner, target] = await Promise.all([
    startSshd(),
    startSshd({ listenAddress: '127.0.0.2' }),
    startSshd({ listenAddress: '127.0.0.3' }),
  ]);
}, 30_000);

afterAll(async () => {
  await Promise.all([bastion?.stop(), inner?.stop(), target?.stop()]);
});

/** PIDs of the local processes holding an established TCP connection to fx. */
function ownersOfConnectionsTo(fx: SshdFixture): number[] {
  const out = execFileSync('ss', ['-Htnp', 'state', 'established', 'dst', `${fx.host}:${fx.port}`], { encoding: 'utf8' });
  return [...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
}

describe('shared jump connections', () => {
  it('hosts behind one bastion share ONE connection to it, closed with its last user', async () => {
    const pool = new JumpPool();
    const sessions = bastion.countSessions();
    const jump = targetFor(bastion, { name: 'bastion' });
    const conns = await Promise.all(
      ['app-1', 'app-2', 'app-3'].map((name) => connectSsh(targetFor(target, { name, jump }), { jumpPool: pool })),
    );
    const outs = await Promise.all(conns.map((c) => c.exec('echo "$SSH_CONNECTION"')));
    for (const r of outs) expect(r.stdout).toMatch(new RegExp(` 127\\.0\\.0\\.3 ${target.port}\\n$`));
    expect(bastion.countSessions() - sessions).toBe(1);
    expect(ownersOfConnectionsTo(bastion)).toEqual([process.pid]);
    await conns[0]!.close();
    await conns[1]!.close();
    expect(pool.size()).toBe(1);
    expect((await conns[2]!.exec('echo still')).stdout).toBe('still\n');
    await conns[2]!.close();
    expect(pool.size()).toBe(0);
    expect(ownersOfConnectionsTo(bastion)).toEqual([]);
  });

  it('queues tunnel opens beyond the bastion limit instead of failing', async () => {
    const pool = new JumpPool();
    const jump = targetFor(bastion, { name: 'bastion', maxJumpChannels: 2 });
    const conns = await Promise.all(
      Array.from({ length: 10 }, (_, i) => connectSsh(targetFor(target, { name: `app-${i}`, jump }), { jumpPool: pool })),
    );
    try {
      expect(await pool.stats(jump)).toEqual({ users: 10, peakTunnels: 2 });
      const rs = await Promise.all(conns.map((c) => c.exec('echo ok')));
      expect(rs.map((r) => r.stdout)).toEqual(Array(10).fill('ok\n'));
    } finally {
      await Promise.all(conns.map((c) => c.close()));
    }
  });

  it('a two-hop chain: each hop reached only by the one before it', async () => {
    const chain = targetFor(inner, { name: 'inner', jump: targetFor(bastion, { name: 'outer' }) });
    const conn = await connectSsh(targetFor(target, { name: 'app-1', jump: chain }), { jumpPool: new JumpPool() });
    try {
      expect((await conn.exec('echo "$SSH_CONNECTION"')).stdout).toMatch(new RegExp(` 127\\.0\\.0\\.3 ${target.port}\\n$`));
      const innerTree = new Set(processTree(inner.pid));
      const bastionTree = new Set(processTree(bastion.pid));
      const toTarget = ownersOfConnectionsTo(target);
      const toInner = ownersOfConnectionsTo(inner);
      expect(toTarget.length).toBeGreaterThan(0);
      expect(toTarget.every((p) => innerTree.has(p))).toBe(true);
      expect(toInner.length).toBeGreaterThan(0);
      expect(toInner.every((p) => bastionTree.has(p))).toBe(true);
      expect(ownersOfConnectionsTo(bastion)).toEqual([process.pid]);
    } finally {
      await conn.close();
    }
  });

  it('a changed host key on the middle hop is refused, naming that hop and both fingerprints', async () => {
    const other = join(inner.dir, 'other_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', other]);
    const [type, b64] = execFileSync('cat', [`${other}.pub`], { encoding: 'utf8' }).trim().split(/\s+/);
    const kh = join(inner.dir, 'changed_known_hosts');
    writeFileSync(kh, `[127.0.0.2]:${inner.port} ${type} ${b64}\n`);
    const oldFp = execFileSync('ssh-keygen', ['-lf', `${other}.pub`], { encoding: 'utf8' }).split(' ')[1];
    const chain = targetFor(inner, { name: 'inner', knownHostsFiles: [kh], jump: targetFor(bastion, { name: 'outer' }) });
    const err = await connectSsh(targetFor(target, { name: 'app-1', jump: chain }), { jumpPool: new JumpPool() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyError);
    expect((err as Error).message).toContain(
      `host key for inner (127.0.0.2:${inner.port}) CHANGED: expected ${oldFp}, got ${inner.hostKeyFingerprint}`,
    );
  });
});

describe('no leaks', () => {
  const fdCount = (): number => readdirSync('/proc/self/fd').length;

  it('100 exec cycles over 20 connections opened and closed through a bastion leave the fd count at its baseline', async () => {
    const pool = new JumpPool();
    const jump = targetFor(bastion, { name: 'bastion' });
    const cycle = async (i: number): Promise<void> => {
      const c: Connection = await connectSsh(targetFor(target, { name: `h${i}`, jump }), { jumpPool: pool });
      try {
        for (let k = 0; k < 5; k++) expect((await c.exec(`echo ${i}.${k}`)).stdout).toBe(`${i}.${k}\n`);
      } finally {
        await c.close();
      }
    };
    await cycle(-1); // warm-up: lazily opened descriptors are not leaks
    const baseline = fdCount();
    for (let round = 0; round < 4; round++) {
      await Promise.all(Array.from({ length: 5 }, (_, j) => cycle(round * 5 + j)));
    }
    expect(pool.size()).toBe(0);
    expect(fdCount()).toBe(baseline);
    expect(ownersOfConnectionsTo(bastion)).toEqual([]);
    expect(ownersOfConnectionsTo(target)).toEqual([]);
  }, timeoutFor(budget(21 * WORK.sshConnect, 105 * WORK.sshExec))); // the work: 21 connections, 105 execs
});
