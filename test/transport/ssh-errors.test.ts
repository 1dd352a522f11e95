import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError } from '../../src/config/errors.js';
import { PASSPHRASE_ENV, planAuth } from '../../src/transport/auth.js';
import { connectSsh } from '../../src/transport/ssh.js';
import { startSshd, targetFor, type SshdFixture } from '../support/sshd.js';

let fx: SshdFixture;
let dir: string;

beforeAll(async () => {
  fx = await startSshd();
  dir = mkdtempSync(join(tmpdir(), 'provision-keys-'));
}, 30_000);

afterAll(async () => {
  await fx?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function keygen(name: string, passphrase = ''): string {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', '', '-f', path]);
  return path;
}

async function failure(p: Promise<unknown>): Promise<ConnectionError> {
  const err = await p.then(
    () => {
      throw new Error('expected the connection to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectionError);
  return err as ConnectionError;
}

describe('connect failures are one line', () => {
  it('connection refused', async () => {
    const dead = await startSshd();
    const target = targetFor(fx, { name: 'lb-1', port: dead.port });
    await dead.stop();
    const retries: number[] = [];
    const err = await failure(connectSsh(target, { retryDelaysMs: [10, 20], onRetry: (r) => retries.push(r.delayMs) }));
    expect(err.message).toBe(`cannot connect to lb-1 (127.0.0.1:${target.port}): connection refused (3 attempts)`);
    expect(err.code).toBe('E_CONNECT');
    expect(retries).toEqual([10, 20]);
  });

  it('a refused connect is retried: a host whose sshd comes up between attempts is reached', async () => {
    // Nothing listens on the port at first; the listener appears when the first retry is announced.
    const dead = await startSshd();
    const port = dead.port;
    await dead.stop();
    let proxy: Server | undefined;
    const announced: string[] = [];
    const c = await connectSsh(targetFor(fx, { name: 'lb-1', port, knownHostsFiles: [join(dir, 'kh-retry')], hostKeyPolicy: 'accept-new' }), {
      retryDelaysMs: [200, 200, 200],
      onRetry: (r) => {
        announced.push(`${r.attempt}: ${r.reason}`);
        proxy ??= createServer((s) => {
          const up = connect(fx.port, fx.host);
          s.pipe(up).pipe(s);
          up.on('error', () => s.destroy());
          s.on('error', () => up.destroy());
        }).listen(port, '127.0.0.1');
      },
    });
    try {
      expect((await c.exec('echo up')).stdout).toBe('up\n');
      expect(announced).toEqual([`1: cannot connect to lb-1 (127.0.0.1:${port}): connection refused`]);
    } finally {
      await c.close();
      proxy?.close();
    }
  });

  it('authentication failures are never retried', async () => {
    const retries: number[] = [];
    const err = await failure(connectSsh(targetFor(fx, { identityFiles: [keygen('stranger-noretry')] }), { onRetry: (r) => retries.push(r.attempt) }));
    expect(err.message).toMatch(/authentication failed for root/);
    expect(retries).toEqual([]);
  });

  it('timed out: a server that never speaks SSH', async () => {
    const sockets: import('node:net').Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const err = await failure(connectSsh(targetFor(fx, { name: 'lb-1', port, connectTimeoutMs: 500 })));
      expect(err.message).toBe(`cannot connect to lb-1 (127.0.0.1:${port}): timed out after 0.5 s`);
      // The client closed its side for good (not a half-close that a silent server never
      // answers, which would keep the CLI process alive after its summary).
      // Settles when this process holds no socket to the port any more.
      const held = () => execFileSync('ss', ['-Htnp', 'dst', `127.0.0.1:${port}`], { encoding: 'utf8' }).includes(`pid=${process.pid},`);
      while (held()) await new Promise((r) => setTimeout(r, 100));
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('authentication failed lists what was tried', async () => {
    const stranger = keygen('stranger');
    const err = await failure(connectSsh(targetFor(fx, { name: 'lb-1', identityFiles: ['/nonexistent/id_rsa', stranger] })));
    expect(err.message).toBe(`cannot connect to lb-1 (127.0.0.1:${fx.port}): authentication failed for root (tried: ${stranger})`);
  });

  it('tries identity files in order until one is accepted', async () => {
    const stranger = keygen('stranger2');
    const c = await connectSsh(targetFor(fx, { identityFiles: [stranger, fx.clientKeyPath] }));
    expect((await c.exec('echo in')).stdout).toBe('in\n');
    await c.close();
  });

  it('no credentials at all is said plainly', async () => {
    const err = await failure(connectSsh(targetFor(fx, { name: 'lb-1', identityFiles: ['/nonexistent/id_ed25519'] })));
    expect(err.message).toMatch(/^cannot connect to lb-1 \(127\.0\.0\.1:\d+\): no credentials for root/);
  });

  it('an encrypted key without passphrase names the file; with the env passphrase it logs in', async () => {
    const locked = keygen('locked', 'correct horse');
    appendFileSync(join(fx.dir, 'authorized_keys'), readFileSync(`${locked}.pub`));
    await expect(planAuth({ user: 'root', identityFiles: [locked], useAgent: false }, {})).rejects.toThrow(
      `identity file ${locked} is encrypted; set ${PASSPHRASE_ENV} or load it into ssh-agent`,
    );
    await expect(
      planAuth({ user: 'root', identityFiles: [locked], useAgent: false }, { [PASSPHRASE_ENV]: 'wrong' }),
    ).rejects.toThrow(`cannot use identity file ${locked}: wrong passphrase`);
    process.env[PASSPHRASE_ENV] = 'correct horse';
    try {
      const c = await connectSsh(targetFor(fx, { identityFiles: [locked] }));
      expect((await c.exec('echo unlocked')).stdout).toBe('unlocked\n');
      await c.close();
    } finally {
      delete process.env[PASSPHRASE_ENV];
    }
  });

  it('puts the agent first when enabled and SSH_AUTH_SOCK is set', async () => {
    const plan = await planAuth(
      { user: 'deploy', identityFiles: [fx.clientKeyPath], useAgent: true },
      { SSH_AUTH_SOCK: '/run/agent.sock' },
    );
    expect(plan.tried).toEqual(['agent', fx.clientKeyPath]);
    expect(plan.methods.map((m) => m.type)).toEqual(['agent', 'publickey']);
    const noAgent = await planAuth({ user: 'deploy', identityFiles: [], useAgent: true }, {});
    expect(noAgent.methods).toEqual([]);
  });
});
