/**
 * Coming from Ansible: a small role written in Ansible's own style (vars built from vars,
 * templates using Jinja/Ansible filters, a mode-only task), ported to provision with
 * mechanical changes only (test/fixtures/ansible-parity: the templates are the same files),
 * converges two hosts to the same files as ansible-playbook does: names, bytes and modes
 * compared tree against tree. Both tools reach the hosts through one real OpenSSH sshd on
 * loopback; each host writes under its own root.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTools } from '../../bench/setup.js';
import { REPO, runCli } from '../support/cli.js';
import { startSshd, type SshdFixture } from '../support/sshd.js';

const FIXTURE = path.join(REPO, 'test/fixtures/ansible-parity');
const HOSTS = ['web-1', 'web-2'];
let fx: SshdFixture;
let dir: string;

/** path -> "mode bytes-as-hex-free text" for every file and directory under `root`. */
async function tree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(path.join(root, rel), { withFileTypes: true })) {
      const p = path.join(rel, e.name);
      const st = await stat(path.join(root, p));
      const mode = (st.mode & 0o7777).toString(8);
      if (e.isDirectory()) {
        out[`${p}/`] = `dir ${mode}`;
        await walk(p);
      } else out[p] = `${mode} ${await readFile(path.join(root, p), 'utf8')}`;
    }
  };
  await walk('');
  return out;
}

beforeAll(async () => {
  // ansible-core from Debian, as the benchmark installs it (bench/setup.ts).
  if (!existsSync('/usr/bin/ansible-playbook')) ensureTools(() => {});
  fx = await startSshd();
  dir = await mkdtemp(path.join(os.tmpdir(), 'provision-ansible-parity-'));
  await cp(FIXTURE, dir, { recursive: true });
  const an = path.join(dir, 'ansible');
  await writeFile(
    path.join(an, 'hosts.ini'),
    ['[app]', ...HOSTS.map((h) => `${h} ansible_host=127.0.0.1 root=${dir}/out-ansible/${h}`), '', '[app:vars]', 'ansible_user=root', `ansible_port=${fx.port}`, `ansible_ssh_private_key_file=${fx.clientKeyPath}`, ''].join('\n'),
  );
  await writeFile(
    path.join(an, 'ansible.cfg'),
    ['[defaults]', 'gathering = explicit', 'retry_files_enabled = False', 'interpreter_python = /usr/bin/python3', `local_tmp = ${an}/tmp`, '', '[ssh_connection]',
      `ssh_args = -o ControlMaster=no -o UserKnownHostsFile=${fx.knownHostsPath} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes`, ''].join('\n'),
  );
  const pv = path.join(dir, 'provision');
  await writeFile(
    path.join(pv, 'inventory.yaml'),
    `settings: { playbooks_dir: playbooks, templates_dir: templates, known_hosts: ${fx.knownHostsPath}, lock_file: ${dir}/lock, forks: 1 }
defaults: { user: root, port: ${fx.port}, identity: ${fx.clientKeyPath} }
groups:
  app: { hosts: [${HOSTS.join(', ')}], playbooks: [shop] }
hosts:
${HOSTS.map((h) => `  ${h}: { address: 127.0.0.1, vars: { root: ${dir}/out-provision/${h} } }`).join('\n')}
`,
  );
}, 600_000);

afterAll(async () => {
  await fx?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('an Ansible role ported to provision', () => {
  it('converges the hosts to the same files, bytes and modes as ansible-playbook', async () => {
    const an = path.join(dir, 'ansible');
    const env = { ...process.env, ANSIBLE_CONFIG: path.join(an, 'ansible.cfg'), ANSIBLE_HOME: path.join(an, 'home'), ANSIBLE_NOCOLOR: '1' };
    const ansible = await promisify(execFile)('ansible-playbook', ['-i', 'hosts.ini', 'site.yml'], { cwd: an, env, maxBuffer: 16 << 20 }).catch((e: { stdout?: string; stderr?: string }) => {
      throw new Error(`ansible-playbook failed:\n${e.stdout}\n${e.stderr}`);
    });
    expect(ansible.stdout).toMatch(/web-2\s+: ok=7\s+changed=7\s+unreachable=0\s+failed=0/);

    const pv = path.join(dir, 'provision', 'inventory.yaml');
    const validate = await runCli(['validate', pv]);
    expect(validate.code, validate.output).toBe(0);
    let execs = fx.countExecs();
    const apply = await runCli(['apply', pv]);
    expect(apply.code, apply.output).toBe(0);
    // The round-trip budget holds with the new step: probe + apply, one exec each, per host.
    expect(fx.countExecs() - execs).toBe(2 * HOSTS.length);

    for (const h of HOSTS) {
      const want = await tree(path.join(dir, 'out-ansible', h));
      expect(Object.keys(want)).toHaveLength(8); // srv/, srv/shop/, etc/ and five files
      expect(await tree(path.join(dir, 'out-provision', h))).toEqual(want);
    }
    // The vars built from vars really rendered per host (the issue's literal `{{ host.name }}` directory).
    const env1 = await readFile(path.join(dir, 'out-provision/web-1/srv/shop/etc/app.env'), 'utf8');
    expect(env1).toContain(`APP_TOKEN=${Buffer.from('web-1:shop').toString('base64')}\n`);
    expect((await stat(path.join(dir, 'out-provision/web-2/srv/shop/etc/shipped.conf'))).mode & 0o777).toBe(0o600);

    // Converged: check finds nothing to do, in one exec per host (the attributes step's
    // path is probed with the others).
    execs = fx.countExecs();
    const again = await runCli(['check', pv]);
    expect(again.code, again.output).toBe(0);
    expect(fx.countExecs() - execs).toBe(HOSTS.length);
  }, 600_000);
});
