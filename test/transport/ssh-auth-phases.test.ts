/**
 * connect_timeout covers reaching the host and the key exchange; authentication has its
 * own limit. The server here is ssh2's Server on loopback, so the test decides when
 * authentication answers: only after the client's connect timeout has run out (counted
 * from the server's own view of the connection), whatever the machine's speed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError } from '../../src/config/errors.js';
import type { SshTarget } from '../../src/transport/connection.js';
import { connectSsh } from '../../src/transport/ssh.js';

const CONNECT_TIMEOUT_MS = 2000;
let dir: string;
let hostKey: Buffer;
let knownHosts: string;

/** A server whose authentication answers `answer` once `holdMs` have passed since the TCP connection. */
function server(answer: 'reject' | 'never', holdMs: number): Promise<{ port: number; close: () => void; authAttempts: () => number; closed: Promise<void> }> {
  let attempts = 0;
  let onClosed: () => void = () => undefined;
  const closed = new Promise<void>((r) => (onClosed = r));
  const srv = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    const connectedAt = Date.now();
    client.on('error', () => undefined);
    client.on('close', () => onClosed());
    client.on('authentication', (ctx) => {
      attempts++;
      if (ctx.method === 'none') return ctx.reject(['password']);
      if (answer === 'never') return;
      setTimeout(() => ctx.reject(), Math.max(0, connectedAt + holdMs - Date.now()));
    });
  });
  return new Promise((resolve) => {
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      writeFileSync(knownHosts, `[127.0.0.1]:${port} ${readFileSync(`${join(dir, 'host')}.pub`, 'utf8')}`);
      resolve({ port, close: () => srv.close(), authAttempts: () => attempts, closed });
    });
  });
}

function target(port: number, extra: Partial<SshTarget> = {}): SshTarget {
  return {
    name: 'lb-1',
    address: '127.0.0.1',
    port,
    user: 'deploy',
    identityFiles: [],
    useAgent: false,
    password: 'wrong-password',
    knownHostsFiles: [knownHosts],
    hostKeyPolicy: 'strict',
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    keepaliveIntervalMs: 0,
    ...extra,
  };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'provision-auth-phases-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', join(dir, 'host')]);
  hostKey = readFileSync(join(dir, 'host'));
  knownHosts = join(dir, 'known_hosts');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('authentication is not a timeout', () => {
  it('a password rejected after the connect timeout has run out is reported as rejected', async () => {
    const srv = await server('reject', CONNECT_TIMEOUT_MS + 1500);
    try {
      const err = await connectSsh(target(srv.port), { retryDelaysMs: [] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectionError);
      expect((err as Error).message).toBe(`cannot connect to lb-1 (127.0.0.1:${srv.port}): authentication failed for deploy (tried: password)`);
      expect(srv.authAttempts()).toBeGreaterThan(1);
    } finally {
      srv.close();
    }
  });

  it('authentication that never answers ends at its own limit, and says so', async () => {
    const srv = await server('never', 0);
    try {
      const err = await connectSsh(target(srv.port, { authTimeoutMs: CONNECT_TIMEOUT_MS + 1000 }), { retryDelaysMs: [] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectionError);
      expect((err as Error).message).toBe(
        `cannot connect to lb-1 (127.0.0.1:${srv.port}): authentication of deploy did not finish within 3 s (key exchange done; the server never answered)`,
      );
      await srv.closed; // the client closed the connection: nothing left to keep the process alive
    } finally {
      srv.close();
    }
  });
});
