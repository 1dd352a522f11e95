/**
 * `provision watch` against a real OpenSSH sshd on loopback (two inventory hosts, each
 * writing under its own root), its fleet page loaded in a real headless Chromium
 * (Debian's `chromium`, driven by playwright-core): a host turns from in sync to drift,
 * live and without a reload, when its file is changed by hand; the diff is on the page
 * with the secret masked. Also: one held connection per host across cycles (counted in
 * sshd's own log), /api/hosts, /metrics, read-only, the token, and a history that
 * survives a restart. The screenshot is kept in test-artifacts/.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureControllerPackages } from '../hosts/packages.js';
import { CLI, REPO, runCli } from '../support/cli.js';
import { startSshd, type SshdFixture } from '../support/sshd.js';

const SECRET = 'canary-watch-secret-5f1c2e';
const ARTIFACTS = path.join(REPO, 'test-artifacts');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let fx: SshdFixture;
let dir: string;
let inventory: string;
let historyFile: string;

function root(host: string): string {
  return path.join(dir, 'hosts', host);
}

interface RunningWatch {
  child: ChildProcess;
  url: string;
  output(): string;
  stop(): Promise<number | null>;
}

/** Starts the built CLI's watcher; resolves once it printed its page address. */
function startWatch(extra: string[] = [], env: NodeJS.ProcessEnv = {}, inv = inventory): Promise<RunningWatch> {
  const child = spawn(process.execPath, [CLI, 'watch', inv, '--interval', '1s', '--listen', '127.0.0.1:0', '--history', historyFile, ...extra], {
    env: { ...process.env, CI: 'true', NO_COLOR: '1', PROVISION_TEST_SECRET: SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = /fleet page (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]!, output: () => out, stop: () => (child.kill('SIGTERM'), closed) });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void closed.then((code) => reject(new Error(`watch exited ${code} before serving:\n${out}`)));
  });
}

async function api(url: string, init?: RequestInit): Promise<{ hosts: { host: string; status: string; last?: { execs: number; steps: { name: string; diff: string }[] }; history: { status: string }[] }[] }> {
  return (await (await fetch(`${url}api/hosts`, init)).json()) as never;
}

/** A loopback port nothing listens on (bound once to pick it, then closed). */
function deadPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, budgetMs = 120_000): Promise<T> {
  const end = Date.now() + budgetMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  ensureControllerPackages(); // chromium among them (the global setup installed them already)
  fx = await startSshd();
  dir = await mkdtemp(path.join(os.tmpdir(), 'provision-watch-'));
  historyFile = path.join(dir, 'state', 'history.jsonl');
  await mkdir(path.join(dir, 'playbooks'));
  await mkdir(path.join(dir, 'inventory'));
  await writeFile(
    path.join(dir, 'playbooks', 'site.yaml'),
    `steps:
  - directory: { path: "{{ root }}/etc", mode: '0755' }
  - name: app config
    file: { dest: "{{ root }}/etc/app.conf", content: "name = {{ host.name }}\\nkey = {{ api_key }}\\nlevel = 3\\n", mode: '0640' }
`,
  );
  inventory = path.join(dir, 'inventory', 'watch.yaml');
  await writeFile(
    inventory,
    `settings: { known_hosts: ${fx.knownHostsPath}, lock_file: ${dir}/lock }
defaults: { user: root, port: ${fx.port}, identity: ${fx.clientKeyPath} }
secrets:
  api_key: { env: PROVISION_TEST_SECRET }
groups:
  web: { hosts: [web-1, web-2], playbooks: [site] }
hosts:
  web-1: { address: 127.0.0.1, vars: { root: ${root('web-1')} } }
  web-2: { address: 127.0.0.1, vars: { root: ${root('web-2')} } }
`,
  );
  const applied = await runCli(['apply', inventory], { env: { PROVISION_TEST_SECRET: SECRET } });
  expect(applied.code, applied.output).toBe(0);
  await mkdir(ARTIFACTS, { recursive: true });
}, 300_000);

afterAll(async () => {
  await fx?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('provision watch', () => {
  it('refuses a non-loopback address without a token, before connecting', async () => {
    const before = fx.countSessions();
    const r = await runCli(['watch', inventory, '--listen', '0.0.0.0:9107'], { env: { PROVISION_TEST_SECRET: SECRET } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--listen 0\.0\.0\.0 is reachable from other machines: give --token-env VAR/);
    expect(fx.countSessions()).toBe(before);
  });

  it('shows a host turning from in sync to drift in a real browser, live, with the diff masked', async () => {
    const sessionsBefore = fx.countSessions();
    const w = await startWatch();
    const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'provision-chromium-'));
    let ctx: BrowserContext | undefined;
    try {
      ctx = await chromium.launchPersistentContext(userDataDir, { executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
      const page = await ctx.newPage();
      await page.goto(w.url);
      await page.locator('tr[data-host="web-1"][data-status="in-sync"]').waitFor({ timeout: 120_000 });
      await page.locator('tr[data-host="web-2"][data-status="in-sync"]').waitFor({ timeout: 120_000 });
      // A mark that a reload would wipe: the update must arrive live.
      await page.evaluate(() => ((globalThis as unknown as { provisionMark: number }).provisionMark = 42));

      await writeFile(path.join(root('web-1'), 'etc/app.conf'), `name = web-1\nkey = ${SECRET}\nlevel = 9\n`);
      const drifted = page.locator('tr[data-host="web-1"][data-status="drift"]');
      await drifted.waitFor({ timeout: 120_000 });
      const detail = page.locator('tr[data-detail-of="web-1"]');
      await detail.locator('pre.diff').waitFor();
      const text = await detail.innerText();
      expect(text).toContain('app config');
      expect(text).toMatch(/site\.yaml:\d+/);
      expect(text).toContain('-level = 9');
      expect(text).toContain('+level = 3');
      expect(text).toContain('********');
      expect(await page.content()).not.toContain(SECRET);
      expect(await page.evaluate(() => (globalThis as unknown as { provisionMark?: number }).provisionMark)).toBe(42);
      expect(await page.locator('tr[data-host="web-2"]').getAttribute('data-status')).toBe('in-sync');
      const strip = (await page.locator('tr[data-host="web-1"] canvas.strip').getAttribute('data-statuses'))!.split(' ');
      expect(strip.indexOf('in-sync')).toBeGreaterThanOrEqual(0);
      expect(strip.lastIndexOf('drift')).toBeGreaterThan(strip.indexOf('in-sync'));
      await page.screenshot({ path: path.join(ARTIFACTS, 'watch-drift.png'), fullPage: true });

      // Several cycles later the watcher still has one connection per host.
      const fleet = await until('three checks of each host', async () => {
        const a = await api(w.url);
        return a.hosts.every((h) => h.history.length >= 3) ? a : undefined;
      });
      expect(fx.countSessions() - sessionsBefore).toBe(2);
      const web1 = fleet.hosts.find((h) => h.host === 'web-1')!;
      expect(web1.status).toBe('drift');
      expect(web1.last!.steps.map((s) => s.name)).toEqual(['app config']);
      expect(JSON.stringify(fleet)).not.toContain(SECRET);
      expect(fleet.hosts.find((h) => h.host === 'web-2')!.last!.execs).toBe(1);
      // Read-only: nothing on the host changed, and the API refuses writes.
      expect(await readFile(path.join(root('web-1'), 'etc/app.conf'), 'utf8')).toContain('level = 9');
      expect((await fetch(`${w.url}api/hosts`, { method: 'POST' })).status).toBe(405);

      const metrics = await (await fetch(`${w.url}metrics`)).text();
      expect(metrics).toContain('provision_watch_host_in_sync{host="web-1"} 0');
      expect(metrics).toContain('provision_watch_host_in_sync{host="web-2"} 1');
      expect(metrics).toContain('provision_watch_host_drifted_steps{host="web-1"} 1');
      expect(metrics).toContain('provision_watch_hosts{status="drift"} 1');
      expect(metrics).toMatch(/provision_watch_host_last_check_timestamp_seconds\{host="web-2"\} \d+/);
    } finally {
      await ctx?.close();
      await rm(userDataDir, { recursive: true, force: true });
      expect(await w.stop()).toBe(0);
    }
  }, 360_000);

  it('keeps the history across a restart, and --repair applies the drift and logs it', async () => {
    const lines = (await readFile(historyFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { host: string; status: string });
    expect(lines.some((l) => l.host === 'web-1' && l.status === 'drift')).toBe(true);
    const w = await startWatch(['--repair']);
    try {
      // Straight after the restart, before any check: the old history is there.
      const first = await api(w.url);
      expect(first.hosts.find((h) => h.host === 'web-1')!.history.some((e) => e.status === 'drift')).toBe(true);
      await until('web-1 repaired and in sync', async () => {
        const a = await api(w.url);
        return a.hosts.find((h) => h.host === 'web-1')!.status === 'in-sync' ? a : undefined;
      });
      expect(await readFile(path.join(root('web-1'), 'etc/app.conf'), 'utf8')).toBe(`name = web-1\nkey = ${SECRET}\nlevel = 3\n`);
      expect(w.output()).toMatch(/web-1: repair applied, 1 step changed/);
      expect(w.output()).not.toContain(SECRET);
    } finally {
      expect(await w.stop()).toBe(0);
    }
    const after = (await readFile(historyFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { host: string; status: string });
    expect(after.filter((l) => l.host === 'web-1' && l.status === 'repaired')).toHaveLength(1);
    expect(after.length).toBeGreaterThan(lines.length);
  }, 240_000);

  it('with --token-env every request must carry the token', async () => {
    const w = await startWatch(['--token-env', 'WATCH_TOKEN'], { WATCH_TOKEN: 'tok-123' });
    try {
      expect((await fetch(`${w.url}api/hosts`)).status).toBe(401);
      expect((await fetch(`${w.url}metrics?token=wrong`)).status).toBe(401);
      expect((await fetch(`${w.url}api/hosts`, { headers: { authorization: 'Bearer tok-123' } })).status).toBe(200);
      expect((await fetch(`${w.url}metrics?token=tok-123`)).status).toBe(200);
      // The page itself holds no data; its event stream needs the token the page was given.
      expect((await fetch(`${w.url}app.js`)).status).toBe(200);
      expect((await fetch(`${w.url}events`, { method: 'HEAD' })).status).toBe(401);
      expect((await fetch(`${w.url}events?token=tok-123`, { method: 'HEAD' })).status).toBe(200);
      // In the browser: the page opened with ?token= shows the fleet.
      const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'provision-chromium-'));
      const ctx = await chromium.launchPersistentContext(userDataDir, { executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
      try {
        const page = await ctx.newPage();
        await page.goto(`${w.url}?token=tok-123`);
        await page.locator('tr[data-host="web-2"][data-status="in-sync"]').waitFor({ timeout: 120_000 });
        expect(await page.locator('#link').isHidden()).toBe(true);
      } finally {
        await ctx.close();
        await rm(userDataDir, { recursive: true, force: true });
      }
    } finally {
      expect(await w.stop()).toBe(0);
    }
  }, 240_000);

  it('shows an unreachable host as such without hammering it, reconnects dropped connections, shows a running apply as locked', async () => {
    const inv2 = path.join(dir, 'inventory', 'with-dead.yaml');
    const text = await readFile(inventory, 'utf8');
    await writeFile(inv2, text.replace('hosts:\n  web-1', `hosts:\n  dead: { address: 127.0.0.1, port: ${await deadPort()} }\n  web-1`));
    const sessionsBefore = fx.countSessions();
    const w = await startWatch(['--limit', 'dead,web'], {}, inv2);
    try {
      const first = await until('every host checked', async () => {
        const a = await api(w.url);
        return a.hosts.every((h) => h.history.length >= 1 && h.status !== 'pending') ? a : undefined;
      });
      const dead = () => first.hosts.find((h) => h.host === 'dead')!;
      expect(dead().status).toBe('unreachable');
      expect(JSON.stringify(dead())).toMatch(/refused/i);
      // Four more cycles of the live hosts; the dead one is waiting out its backoff.
      const later = await until('four more checks of web-2', async () => {
        const a = await api(w.url);
        return a.hosts.find((h) => h.host === 'web-2')!.history.length >= first.hosts.find((h) => h.host === 'web-2')!.history.length + 4 ? a : undefined;
      });
      const deadNow = later.hosts.find((h) => h.host === 'dead')!;
      expect(deadNow.status).toBe('unreachable');
      expect((deadNow as unknown as { retryAt?: string }).retryAt).toMatch(/^\d{4}-/);
      expect(deadNow.history.filter((e) => e.status === 'unreachable').length).toBeLessThan(4);
      expect(fx.countSessions() - sessionsBefore).toBe(2);

      // Drop both held connections on the server side: the watcher reconnects each once.
      // (Sessions of the earlier watchers may still be closing: wait for just these two.)
      const children = await until('the two held sessions alone', async () => {
        const pids = execFileSync('pgrep', ['-P', String(fx.pid)], { encoding: 'utf8' }).trim().split('\n').map(Number);
        return pids.length === 2 ? pids : undefined;
      });
      for (const pid of children) process.kill(pid, 'SIGKILL');
      await until('both connections opened again', async () => (fx.countSessions() - sessionsBefore === 4 ? true : undefined));
      await until('both hosts checked in sync after the reconnect', async () => {
        const a = await api(w.url);
        return ['web-1', 'web-2'].every((n) => a.hosts.find((h) => h.host === n)!.status === 'in-sync') ? true : undefined;
      });

      // An apply holding the lock (its recorded process alive): the hosts show as locked.
      const holder = spawn('sleep', ['60']);
      try {
        await writeFile(path.join(dir, 'lock'), `controller=ci user=root pid=1 started=now remote_pid=${holder.pid} remote_start=1 session=0\n`);
        await until('web-1 locked', async () => ((await api(w.url)).hosts.find((h) => h.host === 'web-1')!.status === 'locked' ? true : undefined));
      } finally {
        holder.kill();
      }
      await writeFile(path.join(dir, 'lock'), '');
      await until('web-1 in sync once the lock is free', async () => ((await api(w.url)).hosts.find((h) => h.host === 'web-1')!.status === 'in-sync' ? true : undefined));
    } finally {
      expect(await w.stop()).toBe(0);
    }
  }, 300_000);
});
