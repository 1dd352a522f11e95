/**
 * Runtime truth on real Debian hosts (issue 12): HAProxy's server-state file never brings
 * back what the inventory no longer says, `check` compares what HAProxy runs with what is
 * declared, and `apply` repairs it through the admin socket without a reload.
 *
 * The static backend's servers are tiny HTTP responders on each LB's loopback (socat under
 * systemd-run), each answering with its own port, so the port HAProxy really uses is
 * visible in every response.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../hosts/harness.js';
import { runCli, type CliResult } from '../support/cli.js';
import { startStackLab, type StackLab } from './stack-lab.js';

let stack: StackLab;
let lbs: TestHost[];
const PORTS = [18080, 18090, 18091];
const STATE = '/var/lib/haproxy/server-state';
const ADMIN = 'UNIX-CONNECT:/run/haproxy/admin.sock';

interface ServerDecl {
  name: string;
  address: string;
  port: number;
  weight?: number;
  state?: string;
}

async function provision(...args: string[]): Promise<CliResult> {
  return runCli(args, { env: stack.env, timeoutMs: 400_000 });
}

async function sh(host: TestHost, command: string): Promise<string> {
  return (await stack.lab.ssh(host, command)).stdout;
}

/** The per-run inventory with a static backend `bk_static` of these servers on :8082. */
async function declare(servers: ServerDecl[]): Promise<void> {
  const doc = parseDocument(await readFile(stack.inventoryPath, 'utf8'));
  doc.setIn(['groups', 'lb', 'vars', 'haproxy_frontends'], [
    { name: 'fe_http', bind: ':80', default_backend: 'bk_tomcat' },
    { name: 'fe_payments', bind: ':8081', default_backend: 'bk_payments' },
    { name: 'fe_static', bind: ':8082', default_backend: 'bk_static' },
  ]);
  doc.setIn(['groups', 'lb', 'vars', 'haproxy_static_backends'], [{ name: 'bk_static', servers }]);
  // The in-flight requests of the drain case are held open as long as the test says.
  doc.setIn(['groups', 'lb', 'vars', 'haproxy_timeout_server'], '5m');
  await writeFile(stack.inventoryPath, doc.toString());
}

/** The ports answering through the LB's static frontend over `tries` requests. */
async function ports(lb: TestHost, tries = 12): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < tries; i++) {
    try {
      const res = await fetch(`http://${lb.address}:8082/`, { signal: AbortSignal.timeout(3000) });
      seen.push(res.status === 200 ? (await res.text()).trim() : `HTTP ${res.status}`);
    } catch (e) {
      seen.push(`error ${(e as Error).message}`);
    }
  }
  return seen;
}

/** `show servers state bk_static`: name -> { addr, port, admin, uweight }. */
async function running(lb: TestHost): Promise<Map<string, { addr: string; port: string; admin: number; weight: number }>> {
  const out = await sh(lb, `echo 'show servers state bk_static' | socat -t5 stdio ${ADMIN}`);
  const m = new Map<string, { addr: string; port: string; admin: number; weight: number }>();
  for (const l of out.split('\n').slice(2)) {
    const f = l.split(' ');
    if (f.length > 18) m.set(f[3]!, { addr: f[4]!, port: f[18]!, admin: Number(f[6]), weight: Number(f[7]) });
  }
  return m;
}

/** HAProxy's worker pids and the master's reload count, from the master CLI's `show proc`. */
async function workers(lb: TestHost): Promise<string> {
  const out = await sh(lb, `echo 'show proc' | socat -t5 stdio UNIX-CONNECT:/run/haproxy-master.sock`);
  return out
    .split('\n')
    .filter((l) => /^\d+\s+(master|worker)\s/.test(l))
    .map((l) => l.split(/\s+/).slice(0, 3).join(' '))
    .join('\n');
}

/** The current worker's pid and uptime (seconds) from `show proc`: a reload changes the pid and restarts the uptime. */
async function worker(lb: TestHost): Promise<{ pid: string; uptime: number }> {
  const out = await sh(lb, `echo 'show proc' | socat -t5 stdio UNIX-CONNECT:/run/haproxy-master.sock`);
  const line = out.split('\n').find((l) => /^\d+\s+worker\s+0\s/.test(l))!;
  const [pid, , , up] = line.split(/\s+/);
  const m = /^(\d+)d(\d+)h(\d+)m(\d+)s$/.exec(up!)!;
  return { pid: pid!, uptime: ((Number(m[1]) * 24 + Number(m[2])) * 60 + Number(m[3])) * 60 + Number(m[4]) };
}

/** The static servers' lines in haproxy.cfg, whitespace-trimmed. */
async function cfgServers(lb: TestHost): Promise<string[]> {
  return (await sh(lb, `sed -n '/^backend bk_static/,/^$/p' /etc/haproxy/haproxy.cfg | grep -E '^\\s*server '`)).trim().split('\n').map((l) => l.trim());
}

interface JsonHost {
  host: string;
  execs: number;
  steps: { name: string; status: string; change: { reason: string } | null }[];
  handlers: { name: string; status: string }[];
}

/** The --json report's hosts by name. */
async function jsonHosts(file: string): Promise<Map<string, JsonHost>> {
  const r = JSON.parse(await readFile(file, 'utf8')) as { hosts: JsonHost[] };
  return new Map(r.hosts.map((h) => [h.host, h]));
}

/**
 * check + apply with --json: check is one exec per host, apply at most two, no handler
 * ran, and (unless `file` is false: a drain alone has no haproxy.cfg keyword) haproxy.cfg
 * was written as a change applied live.
 */
async function applyLive(label: string, limit: string[] = [], file = true): Promise<CliResult> {
  const checkJson = path.join(stack.lab.runDir, `${label}-check.json`);
  const check = await provision('check', stack.inventoryPath, '--json', checkJson, ...limit);
  expect(check.code, check.output).toBe(2);
  for (const h of (await jsonHosts(checkJson)).values()) expect(h.execs, `${h.host}: check execs`).toBe(1);
  const applyJson = path.join(stack.lab.runDir, `${label}-apply.json`);
  const r = await provision('apply', stack.inventoryPath, '--json', applyJson, ...limit);
  expect(r.code, r.output).toBe(0);
  expect(r.output).not.toContain('handler reload haproxy');
  expect(r.output).not.toContain('handler restart haproxy');
  for (const h of (await jsonHosts(applyJson)).values()) {
    expect(h.execs, `${h.host}: apply execs`).toBeLessThanOrEqual(2);
    expect(h.handlers, `${h.host}: no handler`).toEqual([]);
    const cfg = h.steps.find((s) => s.name === 'Main configuration')!;
    expect(cfg.status, `${h.host}: haproxy.cfg written`).toBe(file ? 'changed' : 'ok');
    if (file) expect(cfg.change?.reason).toContain('only lines applied live by "HAProxy runtime and server state match the configuration"');
  }
  if (file) expect(r.output).toMatch(/changed \(runtime\) Main configuration: only lines applied live by/);
  expect(r.output).toMatch(/changed \(runtime\) HAProxy runtime and server state match the configuration: set server bk_static\//);
  return r;
}

/** Same worker (pid), its uptime kept growing: no reload, no restart. */
async function expectSameWorker(lb: TestHost, before: { pid: string; uptime: number }): Promise<void> {
  const now = await worker(lb);
  expect(now.pid, `${lb.name}: same worker pid`).toBe(before.pid);
  expect(now.uptime, `${lb.name}: worker uptime not restarted`).toBeGreaterThanOrEqual(before.uptime);
}

/** `check` of `lb` reports `pending` (a reload pending), and `apply` repairs it with the reload handler. */
async function expectReloadPendingRepaired(lb: TestHost, pending: RegExp): Promise<void> {
  const check = await provision('check', stack.inventoryPath, '--limit', lb.name);
  expect(check.code, check.output).toBe(2);
  expect(check.output).toMatch(pending);
  const r = await provision('apply', stack.inventoryPath, '--limit', lb.name);
  expect(r.code, r.output).toBe(0);
  expect(r.output).toContain('handler reload haproxy');
}

/** systemctl restart, retried once on the containers' occasional 219/CGROUP start failure (as the apply's _unit does). */
async function restart(lb: TestHost): Promise<void> {
  await sh(lb, `systemctl restart haproxy.service || { systemctl status --no-pager -n 0 haproxy.service | grep -q 'status=219/CGROUP' && sleep 1 && systemctl reset-failed haproxy.service && systemctl restart haproxy.service; }`);
}

async function settle(lb: TestHost, want: (p: string[]) => boolean): Promise<string[]> {
  const until = Date.now() + 30_000;
  let seen = await ports(lb);
  while (!want(seen) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 1000));
    seen = await ports(lb);
  }
  return seen;
}

const RESPONDER = String.raw`#!/bin/sh
# Test responder: reads the request head, answers with its port. GET /slow is held (and
# counted in /run/inflight) until /run/release exists.
cr=$(printf '\r')
IFS= read -r first
while IFS= read -r l; do [ "$l" = "$cr" ] || [ -z "$l" ] && break; done
case $first in
  'GET /slow '*) mkdir -p /run/inflight; : > /run/inflight/$1.$$; while [ ! -e /run/release ]; do sleep 0.2; done; rm -f /run/inflight/$1.$$ ;;
esac
printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %s\r\nConnection: close\r\n\r\n%s\n' "$(( $(printf '%s' "$1" | wc -c) + 1 ))" "$1"
`;

beforeAll(async () => {
  stack = await startStackLab({ log: () => {}, tomcats: 1, payments: 1 });
  lbs = stack.lbs;
  await declare([
    { name: 'a', address: '127.0.0.1', port: 18080 },
    { name: 'b', address: '127.0.0.1', port: 18091 },
  ]);
}, 600_000);

afterAll(async () => {
  await stack?.teardown();
});

describe('runtime truth: HAProxy state file, runtime drift, changes without reload', () => {
  it('1. converges; both static servers answer; check is in sync', async () => {
    const r = await provision('apply', stack.inventoryPath);
    expect(r.code, r.output).toBe(0);
    // socat came with the apply; the responders start now (HAProxy's checks find them up).
    for (const lb of lbs) {
      await stack.lab.ssh(lb, 'cat > /usr/local/bin/test-responder && chmod 0755 /usr/local/bin/test-responder', { stdin: RESPONDER });
      for (const p of PORTS) {
        await sh(lb, `systemd-run --quiet --unit=responder-${p} socat TCP-LISTEN:${p},bind=127.0.0.1,reuseaddr,fork EXEC:'/usr/local/bin/test-responder ${p}'`);
      }
    }
    for (const lb of lbs) {
      // a reload saves the state file the later cases rely on
      await sh(lb, 'systemctl reload haproxy.service');
      const seen = await settle(lb, (s) => s.includes('18080') && s.includes('18091'));
      expect(new Set(seen)).toEqual(new Set(['18080', '18091']));
      expect(await sh(lb, `grep ' bk_static ' ${STATE} | cut -d' ' -f4,19 | sort`)).toBe('a 18080\nb 18091\n');
    }
    const check = await provision('check', stack.inventoryPath);
    expect(check.code, check.output).toBe(0);
  }, 600_000);

  it('2. a port change (18080 -> 18090) is applied through the socket (no reload), written to haproxy.cfg, and kept by a later reload and a restart', async () => {
    await declare([
      { name: 'a', address: '127.0.0.1', port: 18090 },
      { name: 'b', address: '127.0.0.1', port: 18091 },
    ]);
    const check = await provision('check', stack.inventoryPath, '--diff');
    expect(check.code, check.output).toBe(2);
    expect(check.output).toContain('bk_static/a runs 127.0.0.1:18080, declared 127.0.0.1:18090');
    const before = await Promise.all(lbs.map(worker));
    await applyLive('port');
    for (const [i, lb] of lbs.entries()) {
      await expectSameWorker(lb, before[i]!);
      expect(await cfgServers(lb)).toEqual(['server a 127.0.0.1:18090 check', 'server b 127.0.0.1:18091 check']);
    }
    // haproxy.cfg is newer than the worker, but what it says runs: not "reload pending"
    const inSync = await provision('check', stack.inventoryPath);
    expect(inSync.code, inSync.output).toBe(0);
    for (const lb of lbs) {
      const after = await settle(lb, (s) => !s.includes('18080') && s.includes('18090'));
      expect(new Set(after), 'after apply').toEqual(new Set(['18090', '18091']));
      expect((await running(lb)).get('a')?.port).toBe('18090');
      expect(await sh(lb, `grep ' bk_static ' ${STATE} | cut -d' ' -f4,19 | sort`)).toBe('a 18090\nb 18091\n');
      await sh(lb, 'systemctl reload haproxy.service');
      const reloaded = await settle(lb, (s) => s.includes('18090') && s.includes('18091'));
      expect(new Set(reloaded), 'after a reload').toEqual(new Set(['18090', '18091']));
      expect(await sh(lb, `grep ' bk_static ' ${STATE} | cut -d' ' -f4,19 | sort`), 'saved by the reload').toBe('a 18090\nb 18091\n');
      await restart(lb);
      const restarted = await settle(lb, (s) => s.includes('18090') && s.includes('18091'));
      expect(new Set(restarted), 'after a restart').toEqual(new Set(['18090', '18091']));
      expect((await running(lb)).get('a')?.port).toBe('18090');
    }
    expect((await provision('check', stack.inventoryPath)).code).toBe(0);
  }, 600_000);

  it('3. a stale state file written while HAProxy is stopped is found by check and cleaned by apply before the start', async () => {
    const lb = lbs[0]!;
    await sh(lb, 'systemctl stop haproxy.service');
    // the case: the file still says 18080 for a server whose name did not change
    await sh(lb, `sed -i 's/^\\(.* bk_static [0-9]* a 127.0.0.1 .*\\) 18090 /\\1 18080 /' ${STATE}`);
    expect(await sh(lb, `grep ' bk_static [0-9]* a ' ${STATE} | cut -d' ' -f19`)).toBe('18080\n');
    const check = await provision('check', stack.inventoryPath, '--limit', lb.name);
    expect(check.code, check.output).toBe(2);
    expect(check.output).toContain(`${STATE}: the next reload or restart would give bk_static/a 127.0.0.1:18080, declared 127.0.0.1:18090`);
    const r = await provision('apply', stack.inventoryPath, '--limit', lb.name);
    expect(r.code, r.output).toBe(0);
    const seen = await settle(lb, (s) => s.includes('18090') && s.includes('18091'));
    expect(new Set(seen)).toEqual(new Set(['18090', '18091']));
    expect((await running(lb)).get('a')?.port).toBe('18090');
    expect((await provision('check', stack.inventoryPath)).code).toBe(0);
  }, 600_000);

  it('4. a server put in MAINT by hand is drift (exit 2, --diff and --json) and apply restores it without a reload', async () => {
    const lb = lbs[1]!;
    await sh(lb, `echo 'set server bk_static/b state maint' | socat -t5 stdio ${ADMIN}`);
    const before = await workers(lb);
    const json = path.join(stack.lab.runDir, 'maint.json');
    const check = await provision('check', stack.inventoryPath, '--diff', '--json', json);
    expect(check.code, check.output).toBe(2);
    expect(check.output).toContain('bk_static/b MAINT, declared ready');
    expect(check.output).toContain('bk_static/b: 127.0.0.1:18091 weight 1 maint -> 127.0.0.1:18091 weight 1 ready');
    const report = JSON.parse(await readFile(json, 'utf8'));
    const host = report.hosts.find((h: { host: string }) => h.host === lb.name);
    const change = host.steps.find((s: { change?: { kind: string } }) => s.change?.kind === 'haproxy_servers').change;
    expect(change.attrs).toContainEqual({ field: 'bk_static/b', before: '127.0.0.1:18091 weight 1 maint', after: '127.0.0.1:18091 weight 1 ready' });
    const r = await provision('apply', stack.inventoryPath);
    expect(r.code, r.output).toBe(0);
    expect(r.output).not.toContain('handler reload haproxy');
    expect(await workers(lb), 'same master and worker pids, no reload').toBe(before);
    expect((await running(lb)).get('b')?.admin).toBe(0);
    const seen = await settle(lb, (s) => s.includes('18091'));
    expect(new Set(seen)).toEqual(new Set(['18090', '18091']));
    expect((await provision('check', stack.inventoryPath)).code).toBe(0);
  }, 600_000);

  it('5. weight and drain set in the inventory take effect without a reload, the weight is written to haproxy.cfg, and both survive a later reload and a restart', async () => {
    const before = await Promise.all(lbs.map(workers));
    const up = await Promise.all(lbs.map(worker));
    await declare([
      { name: 'a', address: '127.0.0.1', port: 18090, weight: 3 },
      { name: 'b', address: '127.0.0.1', port: 18091, state: 'drain' },
    ]);
    await applyLive('weight-drain');
    expect((await provision('check', stack.inventoryPath)).code, 'in sync right after, before any reload').toBe(0);
    for (const [i, lb] of lbs.entries()) {
      expect(await workers(lb), `${lb.name}: no reload`).toBe(before[i]);
      await expectSameWorker(lb, up[i]!);
      // drain has no configuration keyword in HAProxy 2.6: the state file keeps it
      expect(await cfgServers(lb)).toEqual(['server a 127.0.0.1:18090 check weight 3', 'server b 127.0.0.1:18091 check']);
      const m = await running(lb);
      expect(m.get('a')?.weight).toBe(3);
      expect((m.get('b')!.admin & 0x08) !== 0, 'b forced into drain').toBe(true);
      // drained: no new connections to b
      expect(new Set(await ports(lb))).toEqual(new Set(['18090']));
      await sh(lb, 'systemctl reload haproxy.service');
      expect(new Set(await settle(lb, (s) => s.includes('18090'))), `${lb.name} after a reload`).toEqual(new Set(['18090']));
      expect((await running(lb)).get('a')?.weight).toBe(3);
      await restart(lb);
      expect(new Set(await settle(lb, (s) => s.includes('18090'))), `${lb.name} after a restart`).toEqual(new Set(['18090']));
      const r = await running(lb);
      expect(r.get('a')?.weight, 'weight after a restart').toBe(3);
      expect((r.get('b')!.admin & 0x08) !== 0, 'drain after a restart').toBe(true);
    }
    expect((await provision('check', stack.inventoryPath)).code).toBe(0);
    // and back: ready again, traffic shared
    await declare([
      { name: 'a', address: '127.0.0.1', port: 18090 },
      { name: 'b', address: '127.0.0.1', port: 18091 },
    ]);
    const back = await provision('apply', stack.inventoryPath);
    expect(back.code, back.output).toBe(0);
    for (const lb of lbs) expect(new Set(await settle(lb, (s) => s.includes('18091')))).toEqual(new Set(['18090', '18091']));
    expect((await provision('check', stack.inventoryPath)).code).toBe(0);
  }, 600_000);

  it('6. a config put back by hand without a reload is "reload pending"; a changed start-only file is "restart pending"; apply runs the right one', async () => {
    const lb = lbs[0]!;
    const before = await workers(lb);
    // edited and put back: same bytes as provision's, but newer than what HAProxy loaded
    await sh(lb, 'sleep 3; cp /etc/haproxy/haproxy.cfg /root/cfg; echo "# edit" >> /etc/haproxy/haproxy.cfg; cp /root/cfg /etc/haproxy/haproxy.cfg');
    await expectReloadPendingRepaired(lb, /reload pending: \/etc\/haproxy\/haproxy\.cfg changed at \S+Z, HAProxy loaded its configuration at \S+Z \(repair: reload\)/);
    const after = await workers(lb);
    expect(after.split(' ')[0], 'same master').toBe(before.split(' ')[0]);
    expect(after, 'a new worker').not.toBe(before);
    expect((await provision('check', stack.inventoryPath)).code).toBe(0);

    await sh(lb, 'sleep 3; touch /etc/default/haproxy');
    const check2 = await provision('check', stack.inventoryPath, '--limit', lb.name);
    expect(check2.code, check2.output).toBe(2);
    expect(check2.output).toMatch(/restart pending: \/etc\/default\/haproxy changed at \S+Z, HAProxy started at \S+Z \(repair: restart\)/);
    const masterBefore = (await workers(lb)).split(' ')[0];
    const r2 = await provision('apply', stack.inventoryPath, '--limit', lb.name);
    expect(r2.code, r2.output).toBe(0);
    expect((await workers(lb)).split(' ')[0], 'a new master').not.toBe(masterBefore);
    expect(new Set(await settle(lb, (s) => s.includes('18090') && s.includes('18091')))).toEqual(new Set(['18090', '18091']));
    expect((await provision('check', stack.inventoryPath)).code).toBe(0);
  }, 600_000);
  it('7. maint set in the inventory: through the socket (no reload), `disabled` in haproxy.cfg, kept by a reload and a restart; ready again the same way', async () => {
    const up = await Promise.all(lbs.map(worker));
    await declare([
      { name: 'a', address: '127.0.0.1', port: 18090 },
      { name: 'b', address: '127.0.0.1', port: 18091, state: 'maint' },
    ]);
    await applyLive('maint');
    expect((await provision('check', stack.inventoryPath)).code).toBe(0);
    for (const [i, lb] of lbs.entries()) {
      await expectSameWorker(lb, up[i]!);
      expect(await cfgServers(lb)).toEqual(['server a 127.0.0.1:18090 check', 'server b 127.0.0.1:18091 check disabled']);
      expect((await running(lb)).get('b')!.admin & 0x01, 'b forced into maint').toBe(0x01);
      expect(new Set(await ports(lb))).toEqual(new Set(['18090']));
      await sh(lb, 'systemctl reload haproxy.service');
      expect(new Set(await settle(lb, (s) => s.includes('18090'))), `${lb.name} after a reload`).toEqual(new Set(['18090']));
      // the configuration's `disabled` now: CMAINT|FMAINT
      expect((await running(lb)).get('b')!.admin & 0x05, 'maint after a reload').toBe(0x05);
      await restart(lb);
      expect(new Set(await settle(lb, (s) => s.includes('18090'))), `${lb.name} after a restart`).toEqual(new Set(['18090']));
      expect((await running(lb)).get('b')!.admin & 0x05, 'maint after a restart').toBe(0x05);
    }
    expect((await provision('check', stack.inventoryPath)).code).toBe(0);

    const up2 = await Promise.all(lbs.map(worker));
    await declare([
      { name: 'a', address: '127.0.0.1', port: 18090 },
      { name: 'b', address: '127.0.0.1', port: 18091 },
    ]);
    await applyLive('ready');
    expect((await provision('check', stack.inventoryPath)).code).toBe(0);
    for (const [i, lb] of lbs.entries()) {
      await expectSameWorker(lb, up2[i]!);
      expect(await cfgServers(lb)).toEqual(['server a 127.0.0.1:18090 check', 'server b 127.0.0.1:18091 check']);
      expect(new Set(await settle(lb, (s) => s.includes('18091'))), `${lb.name} ready again`).toEqual(new Set(['18090', '18091']));
      await sh(lb, 'systemctl reload haproxy.service');
      expect(new Set(await settle(lb, (s) => s.includes('18091'))), `${lb.name} ready after a reload`).toEqual(new Set(['18090', '18091']));
      expect((await running(lb)).get('b')!.admin & 0x01, 'not in maint after a reload').toBe(0);
    }
    expect((await provision('check', stack.inventoryPath)).code).toBe(0);
  }, 900_000);

  it('8. a drain applied while long requests are in flight: every one completes with 200, new requests go to the other server, no reload', async () => {
    const lb = lbs[0]!;
    const up = await worker(lb);
    await sh(lb, 'rm -rf /run/release /run/inflight');
    // Six held requests, round robin over a (18090) and b (18091).
    const held = Array.from({ length: 6 }, () =>
      fetch(`http://${lb.address}:8082/slow`, { signal: AbortSignal.timeout(600_000) }).then(async (r) => ({ status: r.status, body: (await r.text()).trim() })),
    );
    // "N PORT" per server, from the responders' markers
    const inflight = async () => (await sh(lb, 'ls /run/inflight 2>/dev/null | cut -d. -f1 | sort | uniq -c')).trim().split('\n').map((l) => l.trim());
    const until = Date.now() + 120_000;
    while ((await inflight()).join() !== '3 18090,3 18091' && Date.now() < until) await new Promise((r) => setTimeout(r, 500));
    expect(await inflight(), 'three requests held on each server').toEqual(['3 18090', '3 18091']);

    await declare([
      { name: 'a', address: '127.0.0.1', port: 18090 },
      { name: 'b', address: '127.0.0.1', port: 18091, state: 'drain' },
    ]);
    await applyLive('inflight-drain', ['--limit', lb.name], false);
    await expectSameWorker(lb, up);
    expect((await running(lb)).get('b')!.admin & 0x08, 'b drained').toBe(0x08);
    // the held requests are still in flight on both servers, new ones go to a only
    expect(await inflight(), 'still in flight after the drain').toEqual(['3 18090', '3 18091']);
    expect(new Set(await ports(lb))).toEqual(new Set(['18090']));
    await sh(lb, ': > /run/release');
    const done = await Promise.all(held);
    expect(done.map((d) => d.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(done.map((d) => d.body).sort()).toEqual(['18090', '18090', '18090', '18091', '18091', '18091']);
    await expectSameWorker(lb, up);

    await declare([
      { name: 'a', address: '127.0.0.1', port: 18090 },
      { name: 'b', address: '127.0.0.1', port: 18091 },
    ]);
    const back = await provision('apply', stack.inventoryPath);
    expect(back.code, back.output).toBe(0);
    expect((await provision('check', stack.inventoryPath)).code).toBe(0);
  }, 900_000);
  it('9. conf.d: a temp file made and removed there is not "reload pending"; a file edited in place (directory mtime unchanged) is', async () => {
    const lb = lbs[1]!;
    const dirBefore = await sh(lb, 'sleep 3; stat -c %Y /etc/haproxy/conf.d');
    await sh(lb, 't=$(mktemp /etc/haproxy/conf.d/.tool-XXXXXX) && rm -f "$t"');
    expect(await sh(lb, 'stat -c %Y /etc/haproxy/conf.d'), 'the directory mtime moved').not.toBe(dirBefore);
    const quiet = await provision('check', stack.inventoryPath, '--limit', lb.name);
    expect(quiet.code, quiet.output).toBe(0);

    const file = (await sh(lb, 'ls /etc/haproxy/conf.d/*.cfg | head -n1')).trim();
    const dir = await sh(lb, 'stat -c %Y /etc/haproxy/conf.d');
    // edited in place and put back: same bytes, same directory mtime, a newer file
    await sh(lb, `sleep 3; cp ${file} /root/confd-orig; echo '# edit' >> ${file}; cat /root/confd-orig > ${file}`);
    expect(await sh(lb, 'stat -c %Y /etc/haproxy/conf.d'), 'directory mtime unchanged').toBe(dir);
    await expectReloadPendingRepaired(lb, /reload pending: \/etc\/haproxy\/conf\.d changed at \S+Z, HAProxy loaded its configuration at \S+Z \(repair: reload\)/);
    expect((await provision('check', stack.inventoryPath)).code).toBe(0);
  }, 600_000);
});
