import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../src/transport/connection.js';
import { connectSsh } from '../../src/transport/ssh.js';
import { startSshd, targetFor, type SshdFixture } from '../support/sshd.js';

let fx: SshdFixture;
let conn: Connection;

beforeAll(async () => {
  fx = await startSshd();
  conn = await connectSsh(targetFor(fx, { name: 'lb-1' }));
}, 30_000);

afterAll(async () => {
  await conn?.close();
  await fx?.stop();
});

describe('exec over a real sshd', () => {
  it('runs the script from stdin and returns stdout, stderr and the exit code', async () => {
    const r = await conn.exec('echo "out $(id -u)"\necho err >&2\nprintf "h\\303\\251"\nexit 3\n');
    expect(r).toMatchObject({ exitCode: 3, signal: null, stdout: 'out 0\nhé', stderr: 'err\n', connectionLost: false });
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    expect(conn.hostName).toBe('lb-1');
  });

  it('does not throw on failure and reports a signal death', async () => {
    const failed = await conn.exec('false');
    expect(failed.exitCode).toBe(1);
    const killed = await conn.exec('kill -KILL $$');
    expect(killed).toMatchObject({ exitCode: null, signal: 'SIGKILL', connectionLost: false });
  });

  it('carries a 1 MiB payload on stdin intact', async () => {
    const payload = randomBytes(768 * 1024).toString('base64'); // 1 MiB of text
    expect(payload.length).toBe(1024 * 1024);
    const script = `base64 -d <<'PAYLOAD_END' | sha256sum\n${payload}\nPAYLOAD_END\necho done\n`;
    const r = await conn.exec(script);
    const expected = createHash('sha256').update(Buffer.from(payload, 'base64')).digest('hex');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${expected}  -\ndone\n`);
    expect(r.exitCode).toBe(0);
  }, 30_000);

  it('streams stdout chunks to onStdout', async () => {
    const chunks: string[] = [];
    const r = await conn.exec('echo one; sleep 0.2; echo two', { onStdout: (c) => chunks.push(c) });
    expect(chunks.join('')).toBe(r.stdout);
    expect(r.stdout).toBe('one\ntwo\n');
    expect(chunks.length).toBeGreaterThanOrEqual(2);
  });

  it('runs sudo scripts directly when already root (no sudo in the way)', async () => {
    const r = await conn.exec('id -u; echo "$SUDO_USER"', { sudo: true });
    expect(r.stdout).toBe('0\n\n');
  });

  // OpenSSH ignores "signal" requests on root sessions (no privilege separation after
  // auth), so as root the promise settles through the close + grace period instead.
  it('aborts a running command: the promise settles before the command ends, the connection stays usable', async () => {
    const ac = new AbortController();
    const dir = mkdtempSync(join(tmpdir(), 'provision-abort-'));
    const [pidFile, endMarker] = [join(dir, 'pid'), join(dir, 'ended')];
    try {
      // Abort once the command is known to run. The command would run for 10 minutes: the
      // order (settled, then the command still not ended) is the assertion, not a bound in ms.
      const r = await conn.exec(`echo started; sh -c 'echo $$ > ${pidFile}; exec sleep 600'; touch ${endMarker}; echo never`, {
        signal: ac.signal,
        onStdout: (chunk) => {
          if (chunk.includes('started')) ac.abort();
        },
      });
      expect(existsSync(endMarker)).toBe(false);
      expect(r.stdout).toBe('started\n');
      expect(r.exitCode).not.toBe(0);
      expect(r.connectionLost).toBe(false);
      // The connection is still usable afterwards.
      expect((await conn.exec('echo ok')).stdout).toBe('ok\n');
    } finally {
      // The sleeper (sshd on loopback: it is ours), if it is still there.
      const pid = Number(existsSync(pidFile) ? readFileSync(pidFile, 'utf8') : 0);
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('costs exactly one sshd session per connection and one exec per call', async () => {
    const sessionsBefore = fx.countSessions();
    const c = await connectSsh(targetFor(fx));
    const execsBefore = fx.countExecs();
    for (let i = 0; i < 5; i++) await c.exec(`echo ${i}`);
    await c.close();
    expect(fx.countSessions() - sessionsBefore).toBe(1);
    expect(fx.countExecs() - execsBefore).toBe(5);
  });

  it('execDeferred: the script built once the session is open arrives intact, framed before its payloads, in one exec', async () => {
    const payload = randomBytes(300 * 1024);
    const script = `# é ü ${'x'.repeat(100 * 1024)}\nhead -c ${payload.length} <&3 | sha256sum\nprintf 'ünï\\n'\n`;
    let builds = 0;
    const execsBefore = fx.countExecs();
    const r = await conn.execDeferred!(
      () => {
        builds++;
        return script;
      },
      { payloads: [payload] },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${createHash('sha256').update(payload).digest('hex')}  -\nünï\n`);
    expect(r.exitCode).toBe(0);
    expect(builds).toBe(1);
    expect(fx.countExecs() - execsBefore).toBe(1);
  }, 30_000);

  it('close() is idempotent and exec after close rejects', async () => {
    const c = await connectSsh(targetFor(fx));
    await Promise.all([c.close(), c.close()]);
    await c.close();
    await expect(c.exec('true')).rejects.toThrow(/after close/);
  });
});

describe('connection lost mid-command', () => {
  it('resolves with connectionLost when sshd dies during a long command', async () => {
    const dying = await startSshd();
    try {
      const c = await connectSsh(targetFor(dying));
      let started!: () => void;
      const running = new Promise<void>((r) => (started = r));
      const pending = c.exec('echo started; sleep 60', { onStdout: () => started() });
      // Kill only once the command really runs.
      await running;
      dying.kill();
      const r = await pending;
      expect(r).toMatchObject({ exitCode: null, connectionLost: true, stdout: 'started\n' });
      const after = await c.exec('echo again');
      expect(after.connectionLost).toBe(true);
      await c.close();
    } finally {
      await dying.stop();
    }
  }, 30_000);
});
