import { describe, expect, it } from 'vitest';
import { describeConnectFailure } from '../../src/transport/connect-errors.js';
import { explainSudoFailure, remoteCommand } from '../../src/transport/remote-exec.js';

describe('remoteCommand', () => {
  it('uses sudo -n only for a non-root user who asked for it', () => {
    expect(remoteCommand('deploy', true)).toBe('sudo -n -- /bin/sh -s');
    expect(remoteCommand('deploy', false)).toBe('/bin/sh -s');
    expect(remoteCommand('root', true)).toBe('/bin/sh -s');
  });
});

describe('explainSudoFailure', () => {
  // Recorded from Debian 12's sudo 1.9.13 for a user without NOPASSWD.
  const SUDO_STDERR = 'sudo: a password is required\n';

  it('explains sudo -n needing a password, keeping sudo\'s line', () => {
    expect(explainSudoFailure(SUDO_STDERR, 1, 'deploy', 'lb-1 (10.0.0.11:22)')).toBe(
      'sudo on lb-1 (10.0.0.11:22) needs a password for deploy: sudo -n cannot prompt ' +
        '(grant deploy NOPASSWD in sudoers, set sudo_password_env, or connect as root)\nsudo: a password is required\n',
    );
  });

  it('leaves other failures alone', () => {
    expect(explainSudoFailure(SUDO_STDERR, 2, 'deploy', 'x')).toBe(SUDO_STDERR);
    expect(explainSudoFailure('cp: cannot stat\n', 1, 'deploy', 'x')).toBe('cp: cannot stat\n');
  });
});

describe('describeConnectFailure', () => {
  const ctx = { label: 'lb-1 (10.0.0.11:22)', user: 'root', connectTimeoutMs: 10_000, triedAuth: ['agent', '~/.ssh/id_ed25519'] };
  const err = (message: string, extra: Record<string, string>) => Object.assign(new Error(message), extra);

  it('maps ssh2 levels and socket codes to short reasons', () => {
    expect(describeConnectFailure(err('Timed out while waiting for handshake', { level: 'client-timeout' }), ctx)).toBe('timed out after 10 s');
    expect(describeConnectFailure(err('All configured authentication methods failed', { level: 'client-authentication' }), ctx)).toBe(
      'authentication failed for root (tried: agent, ~/.ssh/id_ed25519)',
    );
    expect(describeConnectFailure(err('connect EHOSTUNREACH 10.0.0.11:22', { level: 'client-socket', code: 'EHOSTUNREACH' }), ctx)).toBe('host unreachable');
    expect(describeConnectFailure(err('getaddrinfo ENOTFOUND lb-1.example', { code: 'ENOTFOUND' }), ctx)).toBe('unknown host name');
    expect(describeConnectFailure(err('Something odd.\nmore', {}), ctx)).toBe('Something odd');
  });
});
