import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError, HostKeyError } from '../../src/config/errors.js';
import { connectSsh } from '../../src/transport/ssh.js';
import { processTree, startSshd, targetFor, type SshdFixture } from '../support/sshd.js';

let bastion: SshdFixture;
let target: SshdFixture;

beforeAll(async () => {
  [bastion, target] = await Promise.all([startSshd(), startSshd({ listenAddress: '127.0.0.2' })]);
}, 30_000);

afterAll(async () => {
  await Promise.all([bastion?.stop(), target?.stop()]);
});

/** PIDs of the local processes holding a TCP connection to the target's sshd. */
function pidsConnectedToTarget(): number[] {
  const out = execFileSync('ss', ['-Htnp', 'state', 'established', 'dst', `${target.host}:${target.port}`], { encoding: 'utf8' });
  return [...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
}

describe('jump host', () => {
  it('reaches the target through the bastion: the TCP connection to the target belongs to the bastion sshd', async () => {
    const bastionSessions = bastion.countSessions();
    const bastionExecs = bastion.countExecs();
    const targetSessions = target.countSessions();
    const conn = await connectSsh(targetFor(target, { name: 'app-1', jump: targetFor(bastion, { name: 'bastion' }) }));
    try {
      const r = await conn.exec('echo "$SSH_CONNECTION"');
      // The shell ran on the target sshd (127.0.0.2:port)...
      expect(r.stdout.trim()).toMatch(new RegExp(` 127\\.0\\.0\\.2 ${target.port}$`));
      // ...and the socket to it is owned by a process forked by the bastion's sshd, not by us.
      const owners = pidsConnectedToTarget();
      expect(owners.length).toBeGreaterThan(0);
      const bastionTree = new Set(processTree(bastion.pid));
      expect(owners.every((p) => bastionTree.has(p))).toBe(true);
      expect(owners).not.toContain(process.pid);
    } finally {
      await conn.close();
    }
    expect(bastion.countSessions() - bastionSessions).toBe(1);
    expect(bastion.countExecs() - bastionExecs).toBe(0);
    expect(target.countSessions() - targetSessions).toBe(1);
  });

  it('the ownership check does tell a direct connection apart', async () => {
    const conn = await connectSsh(targetFor(target));
    try {
      expect(pidsConnectedToTarget()).toContain(process.pid);
    } finally {
      await conn.close();
    }
  });

  it('verifies the target host key with the target known_hosts, through the jump', async () => {
    const err = await connectSsh(
      targetFor(target, { name: 'app-1', knownHostsFiles: [bastion.knownHostsPath], jump: targetFor(bastion, { name: 'bastion' }) }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyError);
    expect((err as Error).message).toMatch(new RegExp(`^unknown host key ${target.hostKeyFingerprint.replace(/[+/]/g, '\\$&')} for app-1 \\(127\\.0\\.0\\.2:${target.port}\\)`));
  });

  it('names the jump host when the tunnel cannot be opened', async () => {
    const err = await connectSsh(
      targetFor(target, { name: 'app-1', port: 1, jump: targetFor(bastion, { name: 'bastion' }) }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toMatch(
      new RegExp(`^cannot connect to app-1 \\(127\\.0\\.0\\.2:1\\) via bastion \\(127\\.0\\.0\\.1:${bastion.port}\\): `),
    );
  });
});
