/**
 * The core promise, end to end over a real OpenSSH sshd on loopback: apply a playbook of
 * file, template, directory, symlink, line, command and download steps (with a handler)
 * under a temporary root; apply again with zero changes; check exits 0; drift found and
 * repaired; ONE exec per host for check and TWO for apply, counted in sshd's own log;
 * unknown host keys refused; a concurrent apply refused by the lock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startSshd, type SshdFixture } from '../support/sshd.js';

let fx: SshdFixture;
let dir: string;
let server: http.Server;
let inventory: string;
const TOOL = '#!/bin/sh\necho tool 1.0\n';

function root(host: string): string {
  return path.join(dir, 'hosts', host);
}

beforeAll(async () => {
  fx = await startSshd();
  dir = await mkdtemp(path.join(os.tmpdir(), 'provision-cli-'));
  const zip = Buffer.from(zipSync({ tool: [new TextEncoder().encode(TOOL), { level: 6 }] }));
  server = http.createServer((req, res) => {
    if (req.url === '/tool.zip') res.end(zip);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await mkdir(path.join(dir, 'playbooks'));
  await mkdir(path.join(dir, 'templates'));
  await mkdir(path.join(dir, 'inventory'));
  await writeFile(
    path.join(dir, 'templates', 'app.conf.njk'),
    '# managed by provision\nname = {{ host.name }}\n{% for b in backends %}\nbackend {{ b }}\n{% endfor %}\n',
  );
  await writeFile(
    path.join(dir, 'playbooks', 'site.yaml'),
    `steps:
  - directory: { path: "{{ root }}/etc", mode: '0755' }
  - name: app config
    template: { src: app.conf.njk, dest: "{{ root }}/etc/app.conf", mode: '0640' }
    notify: restart app
  - file: { dest: "{{ root }}/etc/static", content: "static\\n" }
  - symlink: { path: "{{ root }}/current", target: "{{ root }}/etc" }
  - name: legacy config shipped by "a package"
    command: { cmd: "printf 'a=1\\\\nlevel=1\\\\n' > {{ root }}/etc/legacy.ini", creates: "{{ root }}/etc/legacy.ini" }
  - line: { path: "{{ root }}/etc/legacy.ini", regexp: "^level=", line: "level=3" }
  - directory: { path: "{{ root }}/bin" }
    loop: [1]
  - download:
      url: http://127.0.0.1:${port}/tool.zip
      sha256: ${createHash('sha256').update(zip).digest('hex')}
      extract: tool
      dest: "{{ root }}/bin/tool"
      mode: '0755'
    when: "install_tool"
handlers:
  restart app:
    command: { cmd: "date >> {{ root }}/restarts" }
`,
  );
  const inv = (knownHosts: string) => `settings:
  known_hosts: ${knownHosts}
  lock_file: ${dir}/lock
  forks: 1
  download_cache: ${dir}/cache
defaults: { user: root, port: ${fx.port}, identity: ${fx.clientKeyPath} }
vars: { backends: [a, b], install_tool: true }
groups:
  web: { hosts: [web-1, web-2], playbooks: [site] }
hosts:
  web-1: { address: 127.0.0.1, vars: { root: ${root('web-1')} } }
  web-2: { address: 127.0.0.1, vars: { root: ${root('web-2')} } }
`;
  inventory = path.join(dir, 'inventory', 'test.yaml');
  await writeFile(inventory, inv(fx.knownHostsPath));
  await writeFile(path.join(dir, 'empty_known_hosts'), '');
  await writeFile(path.join(dir, 'inventory', 'unknown-key.yaml'), inv(path.join(dir, 'empty_known_hosts')));
}, 120_000);

afterAll(async () => {
  server?.close();
  await fx?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('provision over a real sshd', () => {
  it('validate and hosts work without connecting', async () => {
    const before = fx.countSessions();
    const v = await runCli(['validate', inventory]);
    expect(v.output).toContain('ok: 2 hosts');
    expect(v.code, v.output).toBe(0);
    const h = await runCli(['hosts', inventory, '--limit', 'web-*,!web-2']);
    expect(h.stdout).toMatch(/web-1\s+127\.0\.0\.1\s+web/);
    expect(h.stdout).not.toContain('web-2');
    expect(fx.countSessions()).toBe(before);
  });

  it('first apply converges in two execs per host, runs the handler once', async () => {
    const before = fx.countExecs();
    const r = await runCli(['apply', inventory, '--json', path.join(dir, 'first.json')]);
    expect(r.output).toMatch(/web-1: changed/);
    expect(r.code, r.output).toBe(0);
    expect(fx.countExecs() - before).toBe(4);
    for (const h of ['web-1', 'web-2']) {
      expect(await readFile(path.join(root(h), 'etc/app.conf'), 'utf8')).toBe(`# managed by provision\nname = ${h}\nbackend a\nbackend b\n`);
      expect(await readFile(path.join(root(h), 'etc/legacy.ini'), 'utf8')).toBe('a=1\nlevel=3\n');
      expect(await readFile(path.join(root(h), 'bin/tool'), 'utf8')).toBe(TOOL);
      expect((await readFile(path.join(root(h), 'restarts'), 'utf8')).trim().split('\n')).toHaveLength(1);
    }
    const report = JSON.parse(await readFile(path.join(dir, 'first.json'), 'utf8'));
    expect(report.hosts.map((h: { execs: number }) => h.execs)).toEqual([2, 2]);
  });

  it('second apply changes nothing in one exec per host; check exits 0 in one exec per host', async () => {
    let before = fx.countExecs();
    const again = await runCli(['apply', inventory]);
    expect(again.code, again.output).toBe(0);
    expect(again.output).not.toMatch(/changed /);
    expect(fx.countExecs() - before).toBe(2);
    before = fx.countExecs();
    const check = await runCli(['check', inventory]);
    expect(check.code, check.output).toBe(0);
    expect(fx.countExecs() - before).toBe(2);
    expect((await readFile(path.join(root('web-1'), 'restarts'), 'utf8')).trim().split('\n')).toHaveLength(1);
  });

  it('--verbose logs each phase with its time, the unchanged steps and the execs, line by line', async () => {
    const r = await runCli(['check', inventory, '--verbose', '--limit', 'web-1']);
    expect(r.code, r.output).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('web-1: '));
    const phases = lines.map((l) => /^web-1: \[\+\d+\.\d\d s\] (starting|connecting|probing|planned)/.exec(l)?.[1]).filter(Boolean);
    expect(phases).toEqual(['starting', 'connecting', 'probing', 'planned']);
    expect(r.stdout).toMatch(/^web-1: \[\+[\d.]+ s\] planned: 0 of \d+ steps differ$/m);
    // Each unchanged step says why it is in sync, from what the probe saw.
    expect(r.stdout).toMatch(/^web-1: ok app config \(\S*playbooks\/site\.yaml:3\): in sync: \S+\/etc\/app\.conf: file, mode 0640, root:root; content matches$/m);
    expect(r.stdout).toMatch(/^web-1: ok legacy config shipped by "a package" \(\S*site\.yaml:8\): `creates` \S+\/etc\/legacy\.ini exists$/m);
    expect(r.stdout).toMatch(/^web-1: \[\+[\d.]+ s\] 1 exec on one SSH connection$/m);
    expect(r.stdout).toMatch(/^web-1: in-sync \(/m);
  });

  it('--json says why each unchanged step is in sync; an unreachable host\'s long form is in --verbose and --json', async () => {
    const json = path.join(dir, 'reasons.json');
    const r = await runCli(['check', inventory, '--limit', 'web-1', '--json', json]);
    expect(r.code, r.output).toBe(0);
    const steps = JSON.parse(await readFile(json, 'utf8')).hosts[0].steps as { name: string; status: string; reason: string | null }[];
    expect(steps.every((st) => st.status === 'ok' && typeof st.reason === 'string' && st.reason.length > 0)).toBe(true);
    expect(steps.find((st) => st.name === 'app config')?.reason).toBe(`in sync: ${root('web-1')}/etc/app.conf: file, mode 0640, root:root; content matches`);

    // A port nobody listens on: refused; the short line names it, the long form is ssh2's own.
    const closed = http.createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    const refused = path.join(dir, 'inventory', 'refused.yaml');
    await writeFile(refused, (await readFile(inventory, 'utf8')).replace(`port: ${fx.port}`, `port: ${port}`));
    const u = await runCli(['check', refused, '--limit', 'web-1', '--verbose', '--json', json]);
    expect(u.code, u.output).toBe(1);
    expect(u.stdout).toMatch(new RegExp(`^web-1: unreachable: cannot connect to .*connection refused.*\\n    connect ECONNREFUSED 127\\.0\\.0\\.1:${port}$`, 'm'));
    const host = JSON.parse(await readFile(json, 'utf8')).hosts[0];
    expect(host.status).toBe('unreachable');
    expect(host.error).toMatch(/connection refused/);
    expect(host.error_detail).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
    const quiet = await runCli(['check', refused, '--limit', 'web-1']);
    expect(quiet.output).not.toContain('ECONNREFUSED');
  });

  it('check finds drift with a diff (exit 2), apply repairs it, check is clean again', async () => {
    const conf = path.join(root('web-2'), 'etc/app.conf');
    await writeFile(conf, '# managed by provision\nname = edited-by-hand\n');
    const before = fx.countExecs();
    const check = await runCli(['check', inventory, '--diff']);
    expect(check.code, check.output).toBe(2);
    expect(fx.countExecs() - before).toBe(2); // --diff costs no extra round trip
    expect(check.stdout).toContain('web-2: ~ app config: content differs');
    expect(check.stdout).toContain('-name = edited-by-hand');
    expect(check.stdout).toContain('+name = web-2');
    const fix = await runCli(['apply', inventory, '--limit', 'web-2']);
    expect(fix.code, fix.output).toBe(0);
    expect(await readFile(conf, 'utf8')).toContain('name = web-2');
    expect((await readFile(path.join(root('web-2'), 'restarts'), 'utf8')).trim().split('\n')).toHaveLength(2);
    expect((await runCli(['check', inventory])).code).toBe(0);
  });

  it('refuses an unknown host key, showing its fingerprint, and connects nowhere else', async () => {
    const r = await runCli(['check', path.join(dir, 'inventory', 'unknown-key.yaml'), '--limit', 'web-1']);
    expect(r.code, r.output).toBe(1);
    expect(r.output).toContain('unknown host key');
    expect(r.output).toMatch(/SHA256:[A-Za-z0-9+/]{43}/);
  });

  it('a concurrent apply on the same host is refused by the lock, naming the holder', async () => {
    await writeFile(path.join(root('web-1'), 'etc/static'), 'drifted\n');
    const lock = path.join(dir, 'lock');
    await writeFile(lock, 'controller=ops-laptop user=alice pid=4242 started=2026-11-24T08:00:00Z\n');
    // flock keeps the lock in its `sleep` child: run both in their own process group.
    const holder: ChildProcess = spawn('flock', ['-n', lock, 'sleep', '30'], { stdio: 'ignore', detached: true });
    await new Promise((r) => setTimeout(r, 300));
    try {
      const r = await runCli(['apply', inventory, '--limit', 'web-1']);
      expect(r.code, r.output).toBe(1);
      expect(r.output).toContain('locked by another run: controller=ops-laptop user=alice pid=4242');
      expect(await readFile(path.join(root('web-1'), 'etc/static'), 'utf8')).toBe('drifted\n');
    } finally {
      process.kill(-holder.pid!, 'SIGKILL');
    }
    await new Promise((r) => setTimeout(r, 200));
    expect((await runCli(['apply', inventory, '--limit', 'web-1'])).code).toBe(0);
    expect(await readFile(path.join(root('web-1'), 'etc/static'), 'utf8')).toBe('static\n');
  });
});
