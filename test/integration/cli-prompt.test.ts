/**
 * Secrets asked on the terminal: a host whose sudo needs a password, with its
 * `sudo_password_env` variable unset, gets a hidden prompt on a TTY (the CLI runs under
 * `script`, which gives it a real pseudo-terminal); without a terminal it is a clear error.
 * The typed password is never echoed or printed.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from '../support/cli.js';
import { startSshd, type SshdFixture } from '../support/sshd.js';

const tag = randomBytes(3).toString('hex');
const user = `pvprompt${tag}`;
const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;
const sudoersFile = `/etc/sudoers.d/provision-prompt-${tag}`;
let fx: SshdFixture;
let dir: string;
let inventory: string;

beforeAll(async () => {
  execFileSync('useradd', ['-m', '-s', '/bin/sh', user]);
  execFileSync('chpasswd', { input: `${user}:${PASSWORD}\n` });
  writeFileSync(`${sudoersFile}.tmp`, `${user} ALL=(ALL) ALL\n`);
  execFileSync('visudo', ['-cf', `${sudoersFile}.tmp`]);
  execFileSync('mv', [`${sudoersFile}.tmp`, sudoersFile]);
  execFileSync('chmod', ['0440', sudoersFile]);
  fx = await startSshd();
  dir = await mkdtemp(path.join(os.tmpdir(), 'provision-prompt-'));
  await mkdir(path.join(dir, 'playbooks'));
  await writeFile(path.join(dir, 'playbooks', 'root-file.yaml'), `steps:
  - file: { dest: "${dir}/owned-by-root", content: "needs sudo\\n", owner: root, group: root, mode: '0600' }
`);
  inventory = path.join(dir, 'inventory.yaml');
  await writeFile(inventory, `settings: { playbooks_dir: ./playbooks, known_hosts: ${fx.knownHostsPath}, ssh_config: false }
defaults: { user: ${user}, port: ${fx.port}, identity: ${fx.clientKeyPath}, sudo: true, sudo_password_env: PROVISION_TEST_SUDO_PW }
groups: { app: { hosts: [app-1], playbooks: [root-file] } }
hosts: { app-1: { address: 127.0.0.1 } }
`);
}, 60_000);

afterAll(async () => {
  await fx?.stop();
  rmSync(sudoersFile, { force: true });
  try {
    execFileSync('userdel', ['-r', user], { stdio: 'ignore' });
  } catch {
    /* not created */
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('secrets asked on the terminal', () => {
  it('without a terminal, an unset sudo password variable is a clear error and nothing connects', async () => {
    const before = fx.countSessions();
    const r = await runCli(['apply', inventory], { env: { PROVISION_TEST_SUDO_PW: '' } });
    expect(r.code).toBe(1);
    expect(r.output).toContain('sudo_password_env names PROVISION_TEST_SUDO_PW, which is not set');
    expect(fx.countSessions()).toBe(before);
  });

  it('on a terminal, the sudo password is asked once, hidden, and the apply runs with it', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', CI: 'true' };
    delete env.PROVISION_TEST_SUDO_PW;
    // `script` runs the CLI on a pseudo-terminal: stdin.isTTY is true, as for an operator.
    const child = spawn('script', ['-qfec', `${process.execPath} ${CLI} apply ${inventory}`, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      if (out.includes('(PROVISION_TEST_SUDO_PW is not set): ') && !child.stdin.writableEnded) child.stdin.end(`${PASSWORD}\r`);
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(out).toContain('sudo password for app-1 (PROVISION_TEST_SUDO_PW is not set): ');
    expect(out).not.toContain(PASSWORD);
    expect(code, out).toBe(0);
    const st = await stat(path.join(dir, 'owned-by-root'));
    expect([st.uid, (st.mode & 0o777).toString(8)]).toEqual([0, '600']);
  });

  it('on a terminal, the live display reads in order: loading at once, then what was done; the plan only with --diff', async () => {
    await rm(path.join(dir, 'owned-by-root'), { force: true });
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', TERM: 'xterm', PROVISION_TEST_SUDO_PW: PASSWORD };
    delete env.CI;
    const onTerminal = async (args: string): Promise<string> => {
      const child = spawn('script', ['-qfec', `${process.execPath} ${CLI} ${args}`, '/dev/null'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code, out).toBe(0);
      // eslint-disable-next-line no-control-regex
      return out.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    };
    const out = await onTerminal(`apply ${inventory}`);
    const loading = out.indexOf(`apply: loading ${inventory}`);
    const done = out.indexOf('app-1: 1 step changed');
    expect(loading, out).toBeGreaterThanOrEqual(0);
    expect(out.slice(0, loading).trim()).toBe(''); // the first thing on the screen
    expect(done, out).toBeGreaterThan(loading);
    expect(out).not.toMatch(/app-1: [+~-] /); // no plan lines after the results
    await rm(path.join(dir, 'owned-by-root'), { force: true });
    expect(await onTerminal(`apply --diff ${inventory}`)).toMatch(/app-1: \+ .*owned-by-root/);
  });
});
