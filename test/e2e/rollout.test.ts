/**
 * Rolling apply on three real load balancers (issue 13): `serial: 1` with an HTTP gate
 * from the controller and HAProxy's own health (every backend with servers has one UP in
 * `show stat`) checked on the host. A change that passes `haproxy -c` but cannot start
 * (a bind to an address the host does not have) leaves lb-1 restored and serving its
 * previous config, lb-2 and lb-3 not started and unchanged; a change that only breaks
 * the gate (a backend whose service has no instances) is restored the same way; a good
 * change rolls through lb-1, lb-2, lb-3 in order with every gate passing.
 */
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../hosts/harness.js';
import { runCli, type CliResult } from '../support/cli.js';
import { GOSSIP_KEY, startStackLab, type StackLab } from './stack-lab.js';
import { REPO } from '../support/cli.js';

let stack: StackLab;
let lbs: TestHost[];

async function provision(...args: string[]): Promise<CliResult> {
  return runCli(args, { env: stack.env, timeoutMs: 600_000 });
}

async function sh(host: TestHost, command: string): Promise<string> {
  return (await stack.lab.ssh(host, command)).stdout;
}

async function httpStatus(url: string): Promise<number> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(3000) })).status;
  } catch {
    return 0;
  }
}

async function editInventory(edit: (doc: ReturnType<typeof parseDocument>) => void): Promise<void> {
  const doc = parseDocument(await readFile(stack.inventoryPath, 'utf8'));
  edit(doc);
  await writeFile(stack.inventoryPath, doc.toString());
}

/** What HAProxy runs from: the main config, conf.d and the EXTRAOPTS line. */
async function configState(host: TestHost): Promise<string> {
  return sh(host, 'cat /etc/haproxy/haproxy.cfg /etc/haproxy/conf.d/*.cfg /etc/default/haproxy | sha256sum');
}

interface Report {
  hosts: { host: string; status: string; execs: number; gates?: { name: string; passed: boolean }[]; restore?: { ok: boolean; restored: string[]; removed: string[]; gates: { passed: boolean }[] } }[];
}

const BACKENDS_UP =
  "echo 'show stat' | socat -t5 stdio UNIX-CONNECT:/run/haproxy/admin.sock | " +
  "awk -F, '$1 !~ /^#/ && $2 != \"FRONTEND\" && $2 != \"BACKEND\" && NF > 17 { n[$1]++; if ($18 ~ /^UP/) up[$1]++ } " +
  'END { for (b in n) if (!up[b]) { print b " has no server UP"; bad = 1 } exit bad }\'';

const FRONTENDS = [
  { name: 'fe_http', bind: ':80', default_backend: 'bk_tomcat' },
  { name: 'fe_payments', bind: ':8081', default_backend: 'bk_payments' },
];
const BACKENDS = [
  { name: 'tomcat', mode: 'dns', slots: 64, health_path: '/' },
  { name: 'payments', mode: 'template' },
];

beforeAll(async () => {
  stack = await startStackLab({ log: () => {}, tomcats: 2, payments: 1, lbs: 3 });
  lbs = stack.lbs;
  const first = await provision('apply', stack.inventoryPath);
  expect(first.code, first.output).toBe(0);
  await editInventory((doc) => {
    doc.setIn(['groups', 'lb', 'serial'], 1);
    doc.setIn(
      ['groups', 'lb', 'health'],
      [
        { name: 'http through the LB', http: { url: 'http://{{ host.address }}/', status: 200, body: 'tomcat-' }, retries: 10, interval: 1, deadline: 30 },
        { name: 'every backend has a server UP', command: BACKENDS_UP, retries: 15, interval: 1, deadline: 30 },
      ],
    );
  });
}, 1_200_000);

afterAll(async () => {
  await stack?.teardown();
});

describe('rolling apply on three real load balancers', () => {
  it('provision health runs the gates alone: every LB passes', async () => {
    const r = await provision('health', stack.inventoryPath);
    expect(r.code, r.output).toBe(0);
    for (const lb of lbs) {
      expect(r.output).toMatch(new RegExp(`${lb.name}: health http through the LB: passed \\(controller, \\d+ attempts?`));
      expect(r.output).toMatch(new RegExp(`${lb.name}: health every backend has a server UP: passed \\(host, \\d+ attempts?`));
    }
  });

  it('a change that passes haproxy -c but cannot start: lb-1 restored and serving, lb-2 and lb-3 not started and unchanged', async () => {
    const before = await Promise.all(lbs.map(configState));
    await editInventory((doc) => {
      // A bind to an address no LB has: `haproxy -c` accepts it, the restart cannot bind.
      doc.setIn(['groups', 'lb', 'vars', 'haproxy_frontends'], [...FRONTENDS, { name: 'fe_extra', bind: '10.213.254.254:9999', default_backend: 'bk_tomcat' }]);
      // EXTRAOPTS changes too, so the restart handler (not only a reload) runs.
      doc.setIn(['groups', 'lb', 'vars', 'haproxy_extraopts'], '-S /run/haproxy-master.sock -dV');
    });
    const json = path.join(stack.lab.runDir, 'bad-bind.json');
    const r = await provision('apply', stack.inventoryPath, '--json', json);
    expect(r.code, r.output).toBe(1);
    expect(r.output).toContain('lb-1: handler restart haproxy: FAILED');
    expect(r.output).toMatch(/lb-1: restored \(/);
    expect(r.output).toContain('lb-1:   put back /etc/haproxy/haproxy.cfg');
    expect(r.output).toContain('lb-1:   put back /etc/default/haproxy');
    expect(r.output).toContain('rollout: the rollout stopped after lb-1 had to be restored');
    const report = JSON.parse(await readFile(json, 'utf8')) as Report;
    expect(report.hosts.map((h) => `${h.host} ${h.status}`)).toEqual(['lb-1 restored', 'lb-2 not started', 'lb-3 not started']);
    const lb1 = report.hosts[0]!;
    expect(lb1.restore).toMatchObject({ ok: true });
    expect(lb1.restore!.gates.map((g) => g.passed)).toEqual([true, true]);
    // probe, apply, and the restore (handlers and host-side gates inside it)
    expect(lb1.execs).toBe(3);
    expect(report.hosts.slice(1).map((h) => h.execs)).toEqual([0, 0]);

    // lb-1 runs its previous config and carries traffic; the others were never touched.
    expect(await configState(lbs[0]!)).toBe(before[0]);
    expect((await sh(lbs[0]!, 'systemctl is-active haproxy.service')).trim()).toBe('active');
    expect(await httpStatus(`http://${lbs[0]!.address}/`)).toBe(200);
    for (const [i, lb] of lbs.slice(1).entries()) expect(await configState(lb)).toBe(before[i + 1]);
  });

  it('a change that only breaks the gate (a backend with no instances): lb-1 restored the same way', async () => {
    const before = await Promise.all(lbs.map(configState));
    await editInventory((doc) => {
      doc.setIn(['groups', 'lb', 'vars', 'haproxy_frontends'], [...FRONTENDS, { name: 'fe_ghost', bind: ':8082', default_backend: 'bk_ghost' }]);
      doc.deleteIn(['groups', 'lb', 'vars', 'haproxy_extraopts']);
      doc.setIn(['groups', 'lb', 'vars', 'haproxy_backends'], [...BACKENDS, { name: 'ghost', mode: 'dns', slots: 4 }]);
    });
    const json = path.join(stack.lab.runDir, 'ghost.json');
    const r = await provision('apply', stack.inventoryPath, '--json', json);
    expect(r.code, r.output).toBe(1);
    expect(r.output).toMatch(/lb-1: health every backend has a server UP: FAILED \(host, \d+ attempts/);
    expect(r.output).toContain('bk_ghost has no server UP');
    const report = JSON.parse(await readFile(json, 'utf8')) as Report;
    expect(report.hosts.map((h) => `${h.host} ${h.status}`)).toEqual(['lb-1 restored', 'lb-2 not started', 'lb-3 not started']);
    expect(report.hosts[0]!.restore!.removed).toContain('/etc/haproxy/conf.d/ghost.cfg');
    expect(report.hosts[0]!.restore!.restored).toContain('/etc/haproxy/haproxy.cfg');
    expect(await sh(lbs[0]!, 'test -e /etc/haproxy/conf.d/ghost.cfg && echo present || echo absent')).toBe('absent\n');
    for (const [i, lb] of lbs.entries()) expect(await configState(lb)).toBe(before[i]);
    expect(await httpStatus(`http://${lbs[0]!.address}/`)).toBe(200);
  });

  it('a good change rolls through lb-1, lb-2, lb-3 in order, every gate passing', async () => {
    await editInventory((doc) => {
      doc.setIn(['groups', 'lb', 'vars', 'haproxy_frontends'], FRONTENDS);
      doc.setIn(['groups', 'lb', 'vars', 'haproxy_backends'], BACKENDS);
      doc.setIn(['groups', 'lb', 'vars', 'haproxy_timeout_client'], '51s');
    });
    const json = path.join(stack.lab.runDir, 'good.json');
    const r = await provision('apply', stack.inventoryPath, '--json', json);
    expect(r.code, r.output).toBe(0);
    const batches = [...r.output.matchAll(/^rollout lb: batch (\d)\/3: (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(batches).toEqual(['1 lb-1', '2 lb-2', '3 lb-3']);
    // each host is done (gates included) before the next batch starts
    const at = (s: string) => r.output.indexOf(s);
    expect(at('lb-1: health every backend has a server UP: passed')).toBeLessThan(at('rollout lb: batch 2/3'));
    expect(at('lb-2: health every backend has a server UP: passed')).toBeLessThan(at('rollout lb: batch 3/3'));
    const report = JSON.parse(await readFile(json, 'utf8')) as Report;
    for (const h of report.hosts) {
      expect(h.status).toBe('changed');
      expect(h.gates!.map((g) => g.passed)).toEqual([true, true]);
      // probe, apply, and one exec for the host-side gate
      expect(h.execs).toBe(3);
    }
    for (const lb of lbs) expect(await sh(lb, 'grep -c "timeout client 51s" /etc/haproxy/haproxy.cfg')).toBe('1\n');
  });
});

describe('saved plans on three real load balancers', () => {
  beforeAll(async () => {
    // Plain applies from here on, with the templates in a copy this test may edit.
    const templates = path.join(stack.lab.runDir, 'templates');
    await cp(path.join(REPO, 'templates'), templates, { recursive: true });
    await editInventory((doc) => {
      doc.deleteIn(['groups', 'lb', 'serial']);
      doc.deleteIn(['groups', 'lb', 'health']);
      doc.setIn(['settings', 'templates_dir'], templates);
    });
  });

  it('plan, a hand change on lb-2: apply --plan refuses lb-2 as stale and applies lb-1 and lb-3', async () => {
    await editInventory((doc) => doc.setIn(['groups', 'lb', 'vars', 'haproxy_timeout_client'], '53s'));
    const planFile = path.join(stack.lab.runDir, 'timeout.plan.json');
    const p = await provision('plan', stack.inventoryPath, '-o', planFile);
    expect(p.code, p.output).toBe(0);
    // the same human plan as check --diff
    const check = await provision('check', stack.inventoryPath, '--diff');
    expect(check.code).toBe(2);
    for (const lb of lbs) expect(p.output).toContain(`${lb.name}: ~ Main configuration: `);
    expect(p.output).toMatch(/^\s*\+\s*timeout client 53s$/m);
    expect(check.output).toMatch(/^\s*\+\s*timeout client 53s$/m);
    const text = await readFile(planFile, 'utf8');
    expect(text).not.toContain(GOSSIP_KEY);
    const plan = JSON.parse(text) as { version: number; hosts: { host: string; secrets: string[]; changes: { id: string; payload_sha256: string | null }[] }[] };
    expect(plan.version).toBe(1);
    expect(plan.hosts.map((h) => h.host)).toEqual(['lb-1', 'lb-2', 'lb-3']);
    for (const h of plan.hosts) {
      expect(h.secrets).toEqual(['consul_encrypt']);
      expect(h.changes.map((c) => c.id)).toEqual(['template /etc/haproxy/haproxy.cfg']);
      expect(h.changes[0]!.payload_sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    const shown = await provision('show', planFile);
    expect(shown.code, shown.output).toBe(0);
    expect(shown.output).toContain('lb-2: 1 change');
    expect(shown.output).toContain('depends on secrets: consul_encrypt (values not stored)');

    await sh(lbs[1]!, "sed -i 's/^\\ttimeout client .*/\\ttimeout client 49s/' /etc/haproxy/haproxy.cfg");
    expect(await sh(lbs[1]!, 'grep -c "timeout client 49s" /etc/haproxy/haproxy.cfg')).toBe('1\n');
    const json = path.join(stack.lab.runDir, 'plan-apply.json');
    const r = await provision('apply', stack.inventoryPath, '--plan', planFile, '--json', json);
    expect(r.code, r.output).toBe(1);
    // The facts that differ name the edited file's content (its stat and mtime differ too).
    expect(r.output).toMatch(/lb-2: failed: refused: stale plan: the host changed since the plan was made \([^)]*\bsha256 \/etc\/haproxy\/haproxy\.cfg\b[^)]*\); make a new plan/);
    expect(r.output).not.toMatch(/lb-[13]: failed/);
    const report = JSON.parse(await readFile(json, 'utf8')) as Report;
    expect(report.hosts.map((h) => `${h.host} ${h.status}`)).toEqual(['lb-1 changed', 'lb-2 failed', 'lb-3 changed']);
    expect(report.hosts.map((h) => h.execs)).toEqual([2, 1, 2]);
    expect(await sh(lbs[1]!, 'grep -c "timeout client 49s" /etc/haproxy/haproxy.cfg')).toBe('1\n');
    for (const lb of [lbs[0]!, lbs[2]!]) expect(await sh(lb, 'grep -c "timeout client 53s" /etc/haproxy/haproxy.cfg')).toBe('1\n');
  });

  it('plan, then a template edit: apply --plan refuses the whole run and changes nothing', async () => {
    await editInventory((doc) => doc.setIn(['groups', 'lb', 'vars', 'haproxy_timeout_client'], '54s'));
    const planFile = path.join(stack.lab.runDir, 'template.plan.json');
    const p = await provision('plan', stack.inventoryPath, '-o', planFile);
    expect(p.code, p.output).toBe(0);
    const tpl = path.join(stack.lab.runDir, 'templates/haproxy/haproxy.cfg.njk');
    await writeFile(tpl, (await readFile(tpl, 'utf8')) + '# edited after the plan\n');
    const before = await Promise.all(lbs.map(configState));
    const r = await provision('apply', stack.inventoryPath, '--plan', planFile);
    expect(r.code, r.output).toBe(1);
    expect(r.output).toContain('refusing the whole run: the code or the vars changed since the plan was made');
    expect(r.output).toContain('lb-1: step "Main configuration" differs from the plan');
    expect(await Promise.all(lbs.map(configState))).toEqual(before);
  });
});
