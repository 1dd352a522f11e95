import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostKeyError } from '../../src/config/errors.js';
import type { NewHostKey } from '../../src/transport/host-key.js';
import { connectSsh } from '../../src/transport/ssh.js';
import { startSshd, targetFor, type SshdFixture } from '../support/sshd.js';

let fx: SshdFixture;
let dir: string;

beforeAll(async () => {
  fx = await startSshd();
  dir = mkdtempSync(join(tmpdir(), 'provision-kh-'));
}, 30_000);

afterAll(async () => {
  await fx?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function knownHosts(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

async function connectError(file: string, policy: 'strict' | 'accept-new' = 'strict'): Promise<HostKeyError> {
  const err = await connectSsh(targetFor(fx, { name: 'lb-1', knownHostsFiles: [file], hostKeyPolicy: policy })).then(
    async (c) => {
      await c.close();
      throw new Error('connected, expected a host key refusal');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HostKeyError);
  return err as HostKeyError;
}

const label = () => `lb-1 (127.0.0.1:${fx.port})`;

describe('host key verification against a real sshd', () => {
  it('accepts the recorded key and runs', async () => {
    const c = await connectSsh(targetFor(fx));
    expect((await c.exec('echo ok')).stdout).toBe('ok\n');
    await c.close();
  });

  it('refuses an unknown key in strict mode, naming the fingerprint and the file', async () => {
    const file = knownHosts('empty', '');
    const err = await connectError(file);
    expect(err.message).toBe(
      `unknown host key ${fx.hostKeyFingerprint} for ${label()}; verify it and add it to ${file} ` +
        '(or run `provision bootstrap`, or set host_key_policy: accept-new)',
    );
  });

  it('records an unknown key in accept-new mode, then strict mode accepts it', async () => {
    const file = join(dir, 'new', 'known_hosts');
    const seen: NewHostKey[] = [];
    const c = await connectSsh(targetFor(fx, { knownHostsFiles: [file], hostKeyPolicy: 'accept-new' }), {
      onNewHostKey: (k) => seen.push(k),
    });
    await c.close();
    expect(seen).toEqual([
      expect.objectContaining({ fingerprint: fx.hostKeyFingerprint, keyType: 'ssh-ed25519', file, port: fx.port }),
    ]);
    expect(readFileSync(file, 'utf8')).toBe(`[127.0.0.1]:${fx.port} ssh-ed25519 ${fx.hostKeys.ed25519.base64}\n`);
    const again = await connectSsh(targetFor(fx, { knownHostsFiles: [file] }));
    await again.close();
  });

  it('refuses a changed key with both fingerprints, even in accept-new mode', async () => {
    const other = join(dir, 'other_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', other]);
    const pub = readFileSync(`${other}.pub`, 'utf8').trim();
    const oldFp = execFileSync('ssh-keygen', ['-lf', `${other}.pub`], { encoding: 'utf8' }).split(' ')[1];
    const file = knownHosts('changed', `[127.0.0.1]:${fx.port} ${pub}\n`);
    const err = await connectError(file, 'accept-new');
    expect(err.message).toBe(
      `host key for ${label()} CHANGED: expected ${oldFp}, got ${fx.hostKeyFingerprint}; ` +
        `if the change is expected, remove the old entry with \`ssh-keygen -R '[127.0.0.1]:${fx.port}' -f ${file}\``,
    );
  });

  it('negotiates the recorded key type: a host recorded with rsa only is accepted', async () => {
    const file = knownHosts('rsa-only', `[127.0.0.1]:${fx.port} ssh-rsa ${fx.hostKeys.rsa.base64}\n`);
    const c = await connectSsh(targetFor(fx, { knownHostsFiles: [file] }));
    expect((await c.exec('echo rsa')).stdout).toBe('rsa\n');
    await c.close();
  });

  it('accepts hashed entries written by ssh-keygen -H', async () => {
    const file = knownHosts('hashed', readFileSync(fx.knownHostsPath, 'utf8'));
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^\|1\|/);
    expect(text).not.toContain('127.0.0.1');
    const c = await connectSsh(targetFor(fx, { knownHostsFiles: [file] }));
    await c.close();
  });

  it('refuses a @revoked key even when the same key is also recorded', async () => {
    const file = knownHosts(
      'revoked',
      `${readFileSync(fx.knownHostsPath, 'utf8')}@revoked * ssh-ed25519 ${fx.hostKeys.ed25519.base64}\n`,
    );
    const err = await connectError(file, 'accept-new');
    expect(err.message).toBe(`host key ${fx.hostKeyFingerprint} for ${label()} is REVOKED (${file}:3); refusing to connect`);
  });

  it('costs no session on a refused host: sshd never sees an authentication', async () => {
    const before = fx.countSessions();
    await connectError(knownHosts('empty2', ''));
    expect(fx.countSessions()).toBe(before);
  });
});
