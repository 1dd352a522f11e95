/**
 * ssh_config: the options provision honours, the inventory-over-ssh_config rule, and a
 * real connection built only from a config file (aliases, patterns, a ProxyJump chain,
 * several identities, accept-new into its UserKnownHostsFile), plus ssh-agent auth.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshConfigFile, parseProxyJump } from '../../src/transport/ssh-config.js';
import { connectSsh, JumpPool } from '../../src/transport/ssh.js';
import { resolveTarget } from '../../src/transport/target.js';
import { startSshd, type SshdFixture } from '../support/sshd.js';

const CONFIG = `
# comments and odd spacing are fine
Host web1 web1.example
  HostName 10.0.0.5
  Port=2222
  User deploy
  IdentityFile ~/.ssh/web_ed25519
  IdentityFile /keys/second
  IdentitiesOnly yes
  ConnectTimeout 7
  ServerAliveInterval 30
  ServerAliveCountMax 5

Host app-*
  HostName %h.internal
  User app
  ProxyJump ops@bastion-a:2200,bastion-b

Host bastion-a
  HostName 192.0.2.1
  ProxyJump gateway

Host bastion-b
  HostName 192.0.2.2
  User jumper
  ProxyJump must-be-ignored

Host direct-*
  ProxyJump none

Host *
  User fallback
  ProxyJump gateway
  StrictHostKeyChecking accept-new
  UserKnownHostsFile ~/.ssh/kh_a /etc/kh_b
`;

describe('SshConfigFile.lookup', () => {
  const cfg = SshConfigFile.parse(CONFIG);

  it('alias: HostName, Port, User, two IdentityFiles, IdentitiesOnly, timeouts; first value wins', () => {
    expect(cfg.lookup('web1')).toEqual({
      hostName: '10.0.0.5',
      port: 2222,
      user: 'deploy',
      identityFiles: [join(homedir(), '.ssh/web_ed25519'), '/keys/second'],
      identitiesOnly: true,
      proxyJump: [{ host: 'gateway' }],
      connectTimeoutS: 7,
      serverAliveIntervalS: 30,
      serverAliveCountMax: 5,
      strictHostKeyChecking: 'accept-new',
      userKnownHostsFiles: [join(homedir(), '.ssh/kh_a'), '/etc/kh_b'],
    });
  });

  it('patterns with %h, a ProxyJump chain, and `none`', () => {
    expect(cfg.lookup('app-7')).toMatchObject({ hostName: 'app-7.internal', user: 'app', proxyJump: [{ host: 'bastion-a', user: 'ops', port: 2200 }, { host: 'bastion-b' }] });
    expect(cfg.lookup('direct-1').proxyJump).toBe('none');
    expect(parseProxyJump('ssh://u@h:1,[::1]:22')).toEqual([{ host: 'h', user: 'u', port: 1 }, { host: '::1', port: 22 }]);
  });

  it('StrictHostKeyChecking yes/ask are strict, no/off only trust on first use', () => {
    for (const [v, want] of [['yes', 'strict'], ['ask', 'strict'], ['no', 'accept-new'], ['accept-new', 'accept-new']]) {
      expect(SshConfigFile.parse(`StrictHostKeyChecking ${v}\n`).lookup('x').strictHostKeyChecking).toBe(want);
    }
  });

  it('a bad number names the file and the key', () => {
    expect(() => SshConfigFile.parse('Host x\n  Port banana\n', '/cfg').lookup('x')).toThrow('/cfg: Port banana (for x) is not a valid number');
  });
});

describe('resolveTarget: inventory over ssh_config over defaults', () => {
  const cfg = SshConfigFile.parse(CONFIG);

  it('ssh_config fills what the inventory did not write', () => {
    const t = resolveTarget({ name: 'web', address: 'web1' }, cfg);
    expect(t).toMatchObject({ address: '10.0.0.5', port: 2222, user: 'deploy', useAgent: false, connectTimeoutMs: 7000, keepaliveIntervalMs: 30_000, keepaliveCountMax: 5, hostKeyPolicy: 'accept-new' });
    expect(t.jump).toMatchObject({ name: 'gateway', address: 'gateway', user: 'fallback' });
  });

  it('written inventory settings win; jump: null means no jump', () => {
    const t = resolveTarget({ name: 'web', address: 'web1', user: 'root', port: 22, identityFiles: ['/inv/key'], connectTimeoutS: 3, hostKeyPolicy: 'strict', knownHostsFiles: ['/inv/kh'], jump: null }, cfg);
    expect(t).toMatchObject({ address: '10.0.0.5', port: 22, user: 'root', identityFiles: ['/inv/key'], connectTimeoutMs: 3000, hostKeyPolicy: 'strict', knownHostsFiles: ['/inv/kh'] });
    expect(t.jump).toBeUndefined();
  });

  it('a ProxyJump chain: each hop looked up, only the first keeps its own ProxyJump', () => {
    const t = resolveTarget({ name: 'app-7', address: 'app-7' }, cfg);
    const hops: string[] = [];
    for (let h = t.jump; h; h = h.jump) hops.push(`${h.user}@${h.address}:${h.port}`);
    expect(hops).toEqual(['jumper@192.0.2.2:22', 'ops@192.0.2.1:2200', 'fallback@gateway:22']);
  });

  it('a ProxyJump loop is an error, not a hang', () => {
    const loop = SshConfigFile.parse('Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n');
    expect(() => resolveTarget({ name: 'a', address: 'a' }, loop)).toThrow(/jump hosts form a cycle/);
  });
});

describe('against real sshd processes', () => {
  let bastion: SshdFixture;
  let target: SshdFixture;
  let dir: string;

  beforeAll(async () => {
    [bastion, target] = await Promise.all([startSshd(), startSshd({ listenAddress: '127.0.0.3' })]);
    dir = mkdtempSync(join(tmpdir(), 'provision-sshcfg-'));
  }, 30_000);

  afterAll(async () => {
    await Promise.all([bastion?.stop(), target?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects with nothing but an alias: HostName, Port, User, identities, ProxyJump, accept-new into UserKnownHostsFile', async () => {
    const stranger = join(dir, 'stranger');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', stranger]);
    const kh = join(dir, 'known_hosts');
    const cfg = SshConfigFile.parse(`
Host jumpbox
  HostName ${bastion.host}
  Port ${bastion.port}
Host app
  HostName ${target.host}
  Port ${target.port}
  ProxyJump jumpbox
Host *
  User root
  IdentityFile ${stranger}
  IdentityFile ${target.clientKeyPath}
  IdentitiesOnly yes
  StrictHostKeyChecking accept-new
  UserKnownHostsFile ${kh}
  ConnectTimeout 5
  ServerAliveInterval 5
`);
    // Both fixtures authorize their own client key; the target's key must also open the bastion.
    appendFileSync(join(bastion.dir, 'authorized_keys'), readFileSync(`${target.clientKeyPath}.pub`));
    const recorded: string[] = [];
    const t = resolveTarget({ name: 'app-1', address: 'app' }, cfg);
    const conn = await connectSsh(t, { jumpPool: new JumpPool(), onNewHostKey: (k) => recorded.push(`${k.host} ${k.fingerprint}`) });
    try {
      expect((await conn.exec('echo "$SSH_CONNECTION"; id -un')).stdout).toMatch(new RegExp(` 127\\.0\\.0\\.3 ${target.port}\\nroot\\n$`));
    } finally {
      await conn.close();
    }
    expect(recorded).toEqual([`jumpbox ${bastion.hostKeyFingerprint}`, `app-1 ${target.hostKeyFingerprint}`]);
    const lines = readFileSync(kh, 'utf8').trim().split('\n');
    expect(lines.map((l) => l.split(' ')[0])).toEqual([`[${bastion.host}]:${bastion.port}`, `[${target.host}]:${target.port}`]);
  });

  it('authenticates with an ssh-agent started by the test (the key file itself is encrypted)', async () => {
    const key = join(dir, 'agent_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'agent-pass', '-C', '', '-f', key]);
    appendFileSync(join(target.dir, 'authorized_keys'), readFileSync(`${key}.pub`));
    const sock = join(dir, 'agent.sock');
    const agent = spawnSync('ssh-agent', ['-a', sock], { encoding: 'utf8' });
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(agent.stdout)?.[1]);
    expect(pid).toBeGreaterThan(0);
    try {
      // ssh-add reads the passphrase from SSH_ASKPASS when there is no tty.
      const askpass = join(dir, 'askpass');
      execFileSync('sh', ['-c', `printf '#!/bin/sh\\necho agent-pass\\n' > ${askpass}; chmod 700 ${askpass}`]);
      execFileSync('ssh-add', [key], { env: { ...process.env, SSH_AUTH_SOCK: sock, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' }, stdio: 'ignore' });
      const t = resolveTarget({ name: 'app-1', address: target.host, port: target.port, identityFiles: [key], knownHostsFiles: [target.knownHostsPath] }, SshConfigFile.parse(`Host *\n  IdentityAgent ${sock}\n`));
      expect(t).toMatchObject({ useAgent: true, agentSocket: sock });
      const conn = await connectSsh(t);
      try {
        expect((await conn.exec('echo via-agent')).stdout).toBe('via-agent\n');
      } finally {
        await conn.close();
      }
      expect(target.log()).toMatch(/Accepted publickey for root .* ED25519 /);
    } finally {
      process.kill(pid);
    }
  });
});

describe('inventory hosts through sshTarget', () => {
  it('uses the inventory ssh_config; written keys win, defaults do not; sudo_password_env must be set', async () => {
    const { writeFileSync } = await import('node:fs');
    const { loadInventory } = await import('../../src/config/inventory.js');
    const { sshTarget } = await import('../../src/compile/jobs.js');
    const d = mkdtempSync(join(tmpdir(), 'provision-inv-'));
    try {
      writeFileSync(join(d, 'ssh_config'), 'Host web1\n  HostName 10.0.0.5\n  User deploy\n  Port 2222\n  ProxyJump gw\n');
      writeFileSync(
        join(d, 'inv.yaml'),
        [
          'settings: {ssh_config: ssh_config, known_hosts: kh}',
          'hosts:',
          '  web: {address: web1}',
          '  web-root: {address: web1, user: root, jump: null}',
          '  web-sudo: {address: web1, sudo: true, sudo_password_env: PV_TEST_SUDO_PW}',
          '',
        ].join('\n'),
      );
      const inv = await loadInventory(join(d, 'inv.yaml'), { ...process.env, PV_TEST_SUDO_PW: 'pw-123' });
      const [web, webRoot, webSudo] = inv.hosts;
      expect(sshTarget(inv, web!)).toMatchObject({ address: '10.0.0.5', user: 'deploy', port: 2222, knownHostsFiles: [join(d, 'kh')], jump: { address: 'gw' } });
      const root = sshTarget(inv, webRoot!);
      expect(root).toMatchObject({ address: '10.0.0.5', user: 'root', port: 2222 });
      expect(root.jump).toBeUndefined();
      expect(sshTarget(inv, webSudo!, { PV_TEST_SUDO_PW: 'pw-123' }).sudoPassword).toBe('pw-123');
      expect(inv.secretValues).toContain('pw-123');
      expect(() => sshTarget(inv, webSudo!, {})).toThrow('host `web-sudo`: sudo_password_env names PV_TEST_SUDO_PW, which is not set in the environment');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
