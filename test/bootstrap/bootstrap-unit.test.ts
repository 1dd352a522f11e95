/** The pure parts of bootstrap: steps built from the ordinary step types, the expected
 * fingerprint in the host key decision, password auth planning, public key reading. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPublicKeys } from '../../src/cli/bootstrap-command.js';
import { proofScript } from '../../src/engine/bootstrap.js';
import { BootstrapSpecError, SSHD_DROPIN, baseSteps, hardenSteps, sshdValidateCommand, type BootstrapSpec } from '../../src/engine/bootstrap-steps.js';
import { planAuth } from '../../src/transport/auth.js';
import { decideHostKey } from '../../src/transport/host-key.js';
import { fingerprint } from '../../src/transport/known-hosts.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl op@laptop';
const spec: BootstrapSpec = {
  user: 'deploy',
  home: '/home/deploy',
  authorizedKeys: `${KEY}\n`,
  sudoRule: 'ALL=(ALL) NOPASSWD:ALL',
  packages: ['acl'],
  aptCacheMaxAge: 86400,
  hardenSsh: true,
};

describe('bootstrap steps', () => {
  it('installs sudo before the sudoers drop-in, then user, ~/.ssh, authorized_keys', () => {
    const steps = baseSteps(spec);
    expect(steps.map((s) => [s.index, s.kind, s.name])).toEqual([
      [0, 'apt', 'packages sudo acl'],
      [1, 'user', 'user deploy'],
      [2, 'directory', '/home/deploy/.ssh'],
      [3, 'file', '/home/deploy/.ssh/authorized_keys'],
      [4, 'sudoers', 'sudoers provision-deploy'],
    ]);
    expect(steps[2]!.spec).toMatchObject({ mode: '0700', owner: 'deploy', group: 'deploy' });
    expect(steps[3]!.spec).toMatchObject({ mode: '0600', owner: 'deploy', bytes: Buffer.from(`${KEY}\n`) });
    expect(steps[4]!.spec).toMatchObject({ name: 'provision-deploy', content: 'deploy ALL=(ALL) NOPASSWD:ALL\n' });
  });

  it('for root: no user, no sudoers, keys in /root', () => {
    const steps = baseSteps({ ...spec, user: 'root', home: '/root', packages: [] });
    expect(steps.map((s) => s.name)).toEqual(['/root/.ssh', '/root/.ssh/authorized_keys']);
  });

  it('rejects a bad user name through the user step schema', () => {
    expect(() => baseSteps({ ...spec, user: 'de ploy' })).toThrow(BootstrapSpecError);
  });

  it('hardening: one validated drop-in notifying the ssh reload', () => {
    const { steps, handlers } = hardenSteps(6);
    expect(steps[0]).toMatchObject({ index: 6, kind: 'file', notify: ['reload ssh'] });
    expect((steps[0]!.spec as { dest: string }).dest).toBe(SSHD_DROPIN);
    expect(handlers.get('reload ssh')?.spec).toEqual({ name: 'ssh', state: 'reloaded' });
    // `%s` is the staged file, substituted everywhere: it must occur exactly once.
    expect(sshdValidateCommand().text.split('%s')).toHaveLength(2);
  });

  it('the proof checks the user and sudo -n (not for root)', () => {
    expect(proofScript('deploy').text).toContain('sudo -n true');
    expect(proofScript('root').text).not.toContain('sudo');
  });
});

describe('expected host key fingerprint', () => {
  const key = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 7)]);
  const target = { name: 'h', address: '10.0.0.1', port: 22, knownHostsFiles: ['/kh'], hostKeyPolicy: 'accept-new' as const };
  const none = { keys: [], revoked: [] };

  it('records the key when it matches', () => {
    expect(decideHostKey({ ...target, expectFingerprint: fingerprint(key) }, none, key).action).toBe('record');
  });

  it('refuses any other key, even one known_hosts accepts', () => {
    const known = { keys: [{ marker: null, hosts: { kind: 'patterns' as const, patterns: ['10.0.0.1'] }, keyType: 'ssh-ed25519', keyBase64: key.toString('base64'), key, comment: '', file: '/kh', line: 1 }], revoked: [] };
    const d = decideHostKey({ ...target, expectFingerprint: 'SHA256:' + 'A'.repeat(43) }, known, key);
    expect(d.action).toBe('refuse');
    if (d.action === 'refuse') expect(d.error.message).toContain(`is ssh-ed25519 ${fingerprint(key)}, not the expected SHA256:AAAA`);
  });
});

describe('password auth', () => {
  it('comes after keys, and never appears in what was tried', async () => {
    const plan = await planAuth({ user: 'root', identityFiles: [], useAgent: false, password: 's3cret' }, {});
    expect(plan.methods.map((m) => m.type)).toEqual(['password', 'keyboard-interactive']);
    expect(plan.tried).toEqual(['password']);
  });

  it('is absent without a password', async () => {
    const plan = await planAuth({ user: 'root', identityFiles: [], useAgent: false }, {});
    expect(plan.methods).toEqual([]);
  });
});

describe('public keys for authorized_keys', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'provision-pubkeys-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads, de-duplicates and skips comments', async () => {
    await writeFile(path.join(dir, 'a.pub'), `# mine\n${KEY}\n`);
    await writeFile(path.join(dir, 'b.pub'), `${KEY}\n`);
    expect(await readPublicKeys([path.join(dir, 'a.pub'), path.join(dir, 'b.pub')])).toBe(`${KEY}\n`);
  });

  it('refuses a private key and garbage', async () => {
    await writeFile(path.join(dir, 'id'), '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n');
    await expect(readPublicKeys([path.join(dir, 'id')])).rejects.toThrow(/PRIVATE key/);
    await writeFile(path.join(dir, 'junk.pub'), 'hello world\n');
    await expect(readPublicKeys([path.join(dir, 'junk.pub')])).rejects.toThrow(/does not hold an OpenSSH public key/);
    await expect(readPublicKeys([path.join(dir, 'missing.pub')])).rejects.toThrow(/cannot read public key/);
  });
});
