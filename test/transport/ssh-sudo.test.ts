/**
 * sudo against a real sshd and the machine's real sudo: users created for the run with a
 * password, sudoers rules in a file under /etc/sudoers.d unique to the run; both removed
 * afterwards.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../src/transport/connection.js';
import { connectSsh } from '../../src/transport/ssh.js';
import { startSshd, targetFor, type SshdFixture } from '../support/sshd.js';

const tag = randomBytes(3).toString('hex');
const users = {
  pw: `pvpw${tag}`, // password required
  tty: `pvtty${tag}`, // password required + requiretty
  nopw: `pvnopw${tag}`, // NOPASSWD
  ttynopw: `pvtn${tag}`, // NOPASSWD + requiretty
};
const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;
const sudoersFile = `/etc/sudoers.d/provision-test-${tag}`;
let fx: SshdFixture;

beforeAll(async () => {
  for (const u of Object.values(users)) {
    execFileSync('useradd', ['-m', '-s', '/bin/sh', u]);
    execFileSync('chpasswd', { input: `${u}:${PASSWORD}\n` });
  }
  const rules = [
    `${users.pw} ALL=(ALL) ALL`,
    `${users.tty} ALL=(ALL) ALL`,
    `Defaults:${users.tty} requiretty`,
    `${users.nopw} ALL=(ALL) NOPASSWD: ALL`,
    `${users.ttynopw} ALL=(ALL) NOPASSWD: ALL`,
    `Defaults:${users.ttynopw} requiretty`,
    '',
  ].join('\n');
  const tmp = `${sudoersFile}.tmp`; // ignored by sudo while it has a dot
  writeFileSync(tmp, rules, { mode: 0o440 });
  execFileSync('visudo', ['-cf', tmp]);
  execFileSync('mv', [tmp, sudoersFile]);
  fx = await startSshd();
}, 30_000);

afterAll(async () => {
  await fx?.stop();
  rmSync(sudoersFile, { force: true });
  for (const u of Object.values(users)) {
    try {
      execFileSync('userdel', ['-r', u], { stdio: 'ignore' });
    } catch {
      /* not created */
    }
  }
});

async function withConn<T>(user: string, sudoPassword: string | undefined, fn: (c: Connection) => Promise<T>): Promise<T> {
  const c = await connectSsh(targetFor(fx, { name: 'app-1', user, ...(sudoPassword !== undefined ? { sudoPassword } : {}) }));
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

/** Every process command line on the machine that contains `needle`. */
function argvContaining(needle: string): string[] {
  const hits: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(needle)) hits.push(`${pid}: ${cmd.replace(/\0/g, ' ')}`);
    } catch {
      /* gone */
    }
  }
  return hits;
}

describe('sudo with a password', () => {
  it('runs as root with the password on stdin, never in any argv', async () => {
    let seen: string[] | undefined;
    const r = await withConn(users.pw, PASSWORD, (c) =>
      c.exec('id -u; echo "$SUDO_USER"; echo running; sleep 1; echo done', {
        sudo: true,
        onStdout: (chunk) => {
          if (chunk.includes('running') && !seen) seen = argvContaining(PASSWORD);
        },
      }),
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`0\n${users.pw}\nrunning\ndone\n`);
    expect(r.exitCode).toBe(0);
    expect(seen).toEqual([]);
  });

  it('a wrong password is a clear error after one attempt, and nothing ran', async () => {
    const marker = `/tmp/provision-sudo-ran-${tag}`;
    const r = await withConn(users.pw, 'not-the-password', (c) => c.exec(`touch ${marker}`, { sudo: true }));
    expect(r.exitCode).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(`sudo password rejected for ${users.pw} on app-1 (127.0.0.1:${fx.port})`);
    expect(r.stderr).toMatch(/1 incorrect password attempt/);
    expect(existsSync(marker)).toBe(false);
  });

  it('without a password, a host that asks for one says what to do', async () => {
    const r = await withConn(users.pw, undefined, (c) => c.exec('id -u', { sudo: true }));
    expect(r.exitCode).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(
      `sudo on app-1 (127.0.0.1:${fx.port}) needs a password for ${users.pw}: sudo -n cannot prompt ` +
        `(grant ${users.pw} NOPASSWD in sudoers, set sudo_password_env, or connect as root)`,
    );
  });

  it('a NOPASSWD host with a password configured: the password line is never run as a command', async () => {
    const r = await withConn(users.nopw, PASSWORD, (c) => c.exec('id -u', { sudo: true }));
    expect(r).toMatchObject({ exitCode: 0, stdout: '0\n', stderr: '' });
  });
});

describe('raw payloads after the script (large and binary files)', () => {
  const payloads = [Buffer.from([0, 1, 2, 255, 10, 13, 0]), randomBytes(3 * 1024 * 1024 + 17)];
  // Reads each payload from fd 3 exactly, then prints its size and checksum.
  const script = [
    'head -c 7 <&3 | od -An -tx1 | tr -d " \\n"; echo',
    `head -c ${payloads[1]!.length} <&3 | sha256sum | cut -c1-64`,
    'id -u',
  ].join('\n');
  const expected = (uid: string) => `000102ff0a0d00\n${createHash('sha256').update(payloads[1]!).digest('hex')}\n${uid}\n`;

  it('through sudo -n (NOPASSWD) and through sudo with a password: every byte arrives, in order', async () => {
    for (const [user, pw] of [[users.nopw, undefined], [users.pw, PASSWORD], [users.nopw, PASSWORD]] as const) {
      const r = await withConn(user, pw, async (c) => {
        expect(c.acceptsPayloads?.()).toBe(true);
        return c.exec(script, { sudo: true, payloads });
      });
      expect(r, `${user} ${pw ? 'with' : 'without'} a password`).toMatchObject({ exitCode: 0, stderr: '', stdout: expected('0') });
    }
  });

  it('without sudo', async () => {
    const r = await withConn(users.nopw, undefined, (c) => c.exec(script, { payloads }));
    const uid = execFileSync('id', ['-u', users.nopw], { encoding: 'utf8' }).trim();
    expect(r).toMatchObject({ exitCode: 0, stderr: '', stdout: expected(uid) });
  });

  it('a requiretty host (pty) says it cannot take payloads, and the engine sends contents inline there', async () => {
    await withConn(users.ttynopw, undefined, async (c) => {
      await c.exec('true', { sudo: true });
      expect(c.acceptsPayloads?.()).toBe(false);
      await expect(c.exec(script, { sudo: true, payloads })).rejects.toThrow(/payloads cannot be sent through a pseudo-terminal/);
    });
  });
});

describe('requiretty hosts', () => {
  it('retries once with a raw pty: no echo, long lines intact, and later execs use the pty at once', async () => {
    const long = 'x'.repeat(200_000);
    await withConn(users.tty, PASSWORD, async (c) => {
      const r = await c.exec(`id -u; printf '%s' '${long}' | wc -c; read -r _ _ _ _ _ _ t _ </proc/$$/stat; [ "$t" != 0 ] && echo has-tty`, { sudo: true });
      expect(r).toMatchObject({ exitCode: 0, stdout: '0\n200000\nhas-tty\n' });
      const execsBefore = fx.countExecs();
      const again = await c.exec('echo "$SUDO_USER"', { sudo: true });
      expect(again.stdout).toBe(`${users.tty}\n`);
      expect(fx.countExecs() - execsBefore).toBe(1);
    });
  });

  it('a wrong password on a requiretty host is still a clear error', async () => {
    const r = await withConn(users.tty, 'wrong', (c) => c.exec('id -u', { sudo: true }));
    expect(r.exitCode).toBe(1);
    // With a pty, sudo's stderr arrives in stdout; the user sees the same line.
    expect(r.stderr.split('\n')[0]).toBe(`sudo password rejected for ${users.tty} on app-1 (127.0.0.1:${fx.port})`);
  });

  it('passwordless requiretty works too', async () => {
    const r = await withConn(users.ttynopw, undefined, (c) => c.exec('id -u', { sudo: true }));
    expect(r).toMatchObject({ exitCode: 0, stdout: '0\n' });
  });
});
