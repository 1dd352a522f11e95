/**
 * The load-balancer stack on real Debian hosts (issue: "The load-balancer stack, proven on
 * real Debian hosts"): two LBs converge from bare Debian, traffic reaches every backend,
 * DNS-discovered backends follow the catalogue without provisioning (40 instances too),
 * the sync service writes conf.d and reloads HAProxy through its narrow sudo rule, the
 * server-state file survives reloads, a second apply changes nothing, drift is found and
 * repaired, and an invalid HAProxy config is never installed.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND_PORT, type TestHost } from '../hosts/harness.js';
import { budget, phase, timeoutFor, within, WORK } from '../support/budget.js';
import { runCli, type CliResult } from '../support/cli.js';
import { startStackLab, type Instance, type StackLab } from './stack-lab.js';

/** Each test's budget: the work it does (test/support/budget.ts). */
const B1 = budget(WORK.aptApply, 2 * WORK.inspect);
const B2 = budget(2 * WORK.converge);
const B3 = budget(4 * WORK.converge, 2 * WORK.inspect);
const B4 = budget(4 * WORK.converge, 2 * WORK.inspect);
const B5 = budget(2 * WORK.inspect);
const B6 = budget(WORK.apply, WORK.cliRun, 2 * WORK.inspect);
const B7 = budget(WORK.apply, 2 * WORK.cliRun, WORK.inspect);
const B8 = budget(WORK.apply, WORK.cliRun, WORK.inspect);

let stack: StackLab;
let lb1: TestHost;
let lb2: TestHost;

async function provision(...args: string[]): Promise<CliResult> {
  return runCli(args, { env: stack.env, timeoutMs: WORK.aptApply });
}

async function sh(host: TestHost, command: string): Promise<string> {
  return (await stack.lab.ssh(host, command)).stdout;
}

async function get(url: string): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return { status: res.status, body: (await res.text()).trim() };
  } catch (e) {
    return { status: 0, body: String(e) };
  }
}

/** Names answering through `url` over `tries` requests. */
async function answers(url: string, tries = 12): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < tries; i++) {
    const r = await get(url);
    if (r.status === 200) seen.add(r.body);
  }
  return seen;
}

/** Polls until `check` passes (the system converges on its own: DNS, consul-template). */
async function eventually<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number = WORK.converge): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: T = await fn();
  while (!ok(last)) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last instanceof Set ? [...last] : last)}`);
    await new Promise((r) => setTimeout(r, 1000));
    last = await fn();
  }
  return last;
}

const tomcats = (n: number, addrs: string[]): Instance[] =>
  Array.from({ length: n }, (_, i) => ({ service: 'tomcat', node: `tomcat-${i + 1}`, address: addrs[i % addrs.length]!, port: BACKEND_PORT }));

/** `show servers state` rows of one backend: [name, op_state, admin_state]. */
async function serverStates(host: TestHost, backend: string): Promise<string[][]> {
  const out = await sh(host, `echo 'show servers state ${backend}' | socat -t5 stdio UNIX-CONNECT:/run/haproxy/admin.sock`);
  return out
    .split('\n')
    .slice(2)
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => l.split(' '))
    .map((f) => [f[3]!, f[5]!, f[6]!]);
}

beforeAll(async () => {
  stack = await startStackLab({ log: () => {}, tomcats: 3, payments: 2 });
  [lb1, lb2] = stack.lbs as [TestHost, TestHost];
  // payments-2 exists but is not in the catalogue yet (test 4 adds it).
  const b = (n: string) => stack.backends.find((x) => x.name === n)!;
  await stack.publish([
    { service: 'tomcat', node: 'tomcat-1', address: b('tomcat-1').address, port: BACKEND_PORT },
    { service: 'tomcat', node: 'tomcat-2', address: b('tomcat-2').address, port: BACKEND_PORT },
    { service: 'payments', node: 'payments-1', address: b('payments-1').address, port: BACKEND_PORT },
  ]);
}, timeoutFor(budget(WORK.image, WORK.boot)));

afterAll(async () => {
  await stack?.teardown();
});

describe('the load-balancer stack on real Debian hosts', () => {
  it('1. converges from bare Debian: packages, units, HAProxy answering; every step type ran', within(B1, async () => {
    phase('first apply (installs packages)');
    const json = path.join(stack.lab.runDir, 'first-apply.json');
    const r = await provision('apply', stack.inventoryPath, '--json', json);
    expect(r.code, r.output).toBe(0);
    phase('inspecting the hosts');
    for (const lb of [lb1, lb2]) {
      expect(await sh(lb, "dpkg-query -W -f '${Package} ${db:Status-Abbrev}\\n' haproxy dnsmasq sudo acl socat | sort")).toBe(
        'acl ii \ndnsmasq ii \nhaproxy ii \nsocat ii \nsudo ii \n',
      );
      for (const unit of ['consul', 'dnsmasq', 'haproxy', 'consul-template']) {
        expect((await sh(lb, `systemctl is-enabled ${unit}; systemctl is-active ${unit}`)).trim()).toBe('enabled\nactive');
      }
      expect((await get(`http://${lb.address}/`)).status).toBe(200);
    }
    const report = JSON.parse(await readFile(json, 'utf8'));
    const kinds = new Set<string>(report.hosts[0].steps.filter((s: { status: string }) => s.status === 'changed').map((s: { change: { kind: string } }) => s.change.kind));
    for (const kind of ['apt', 'user', 'group', 'systemd_unit', 'service', 'sudoers', 'acl', 'download', 'template', 'directory', 'line', 'command']) {
      expect(kinds, `step type ${kind} changed something`).toContain(kind);
    }
    // Both HAProxy handlers were notified; the restart (defined first) made the reload redundant.
    const handlers = new Map((report.hosts[0].handlers as { name: string; status: string }[]).map((h) => [h.name, h.status]));
    expect([handlers.get('restart haproxy'), handlers.get('reload haproxy')]).toEqual(['changed', 'ok']);
    expect(r.output).toContain('lb-1: handler reload haproxy: not needed');
  }), timeoutFor(B1));

  it('2. traffic through each LB reaches every backend', within(B2, async () => {
    for (const lb of [lb1, lb2]) {
      phase(`waiting for both tomcats via ${lb.name}`);
      const seen = await eventually(`both tomcats via ${lb.name}`, () => answers(`http://${lb.address}/`), (s) => s.has('tomcat-1') && s.has('tomcat-2'));
      expect([...seen].sort()).toEqual(['tomcat-1', 'tomcat-2']);
      expect((await get(`http://${lb.address}:8081/`)).body).toBe('payments-1');
    }
  }), timeoutFor(B2));

  it('3. dns mode: a backend added to the catalogue is served without provisioning; 40 instances are all up', within(B3, async () => {
    const addrs = ['tomcat-1', 'tomcat-2', 'tomcat-3'].map((n) => stack.backends.find((b) => b.name === n)!.address);
    const payments1 = { service: 'payments', node: 'payments-1', address: stack.backends.find((b) => b.name === 'payments-1')!.address, port: BACKEND_PORT };
    await stack.publish([...tomcats(3, addrs), payments1]);
    for (const lb of [lb1, lb2]) {
      phase(`waiting for tomcat-3 via ${lb.name}`);
      await eventually(`tomcat-3 via ${lb.name}`, () => answers(`http://${lb.address}/`, 15), (s) => s.has('tomcat-3'));
    }
    // 40 instances (node names tomcat-1..40 on the three backend hosts): every one resolved
    // and up. With the default 512-byte payload or dnsmasq's 1232-byte EDNS default the
    // answer is truncated and HAProxy sees 3 or none.
    await stack.publish([...tomcats(40, addrs), payments1]);
    for (const lb of [lb1, lb2]) {
      phase(`waiting for 40 servers up on ${lb.name}`);
      const up = await eventually(
        `40 servers up on ${lb.name}`,
        // op_state 2 = running; admin bits 0x01 (forced maintenance) and 0x20 (RMAINT:
        // unresolved or unused template slot) clear. 0x40 is set on every resolved slot.
        async () => (await serverStates(lb, 'bk_tomcat')).filter(([, op, admin]) => op === '2' && (Number(admin) & 0x21) === 0).length,
        (n) => n === 40,
      );
      expect(up).toBe(40);
      const resolvers = await sh(lb, `echo 'show resolvers consul' | socat -t5 stdio UNIX-CONNECT:/run/haproxy/admin.sock`);
      expect(resolvers).toMatch(/truncated:\s+0/);
    }
    // back to the three real instances for the rest of the suite
    await stack.publish([...tomcats(3, addrs), payments1]);
  }), timeoutFor(B3));

  it('4. template mode: consul-template (as consul) writes conf.d and reloads HAProxy through its one sudo rule', within(B4, async () => {
    const b = (n: string) => stack.backends.find((x) => x.name === n)!;
    await stack.publish([
      ...tomcats(3, ['tomcat-1', 'tomcat-2', 'tomcat-3'].map((n) => b(n).address)),
      { service: 'payments', node: 'payments-1', address: b('payments-1').address, port: BACKEND_PORT },
      { service: 'payments', node: 'payments-2', address: b('payments-2').address, port: BACKEND_PORT },
    ]);
    for (const lb of [lb1, lb2]) {
      phase(`consul-template rendering and reloading on ${lb.name}`);
      expect((await sh(lb, 'ps -o user= -p "$(systemctl show -p MainPID --value consul-template)"')).trim()).toBe('consul');
      // the file is written by consul (temp file + rename in conf.d: the ACL works)...
      await eventually(`payments-2 in conf.d on ${lb.name}`, () => sh(lb, 'cat /etc/haproxy/conf.d/payments.cfg'), (t) => t.includes('payments-2'));
      expect((await sh(lb, 'stat -c %U /etc/haproxy/conf.d/payments.cfg')).trim()).toBe('consul');
      // ...and served after the reload it triggered through sudo (the drop-in passes conf.d)
      const seen = await eventually(`payments-2 via ${lb.name}`, () => answers(`http://${lb.address}:8081/`), (s) => s.has('payments-2'));
      expect([...seen].sort()).toEqual(['payments-1', 'payments-2']);
      // consul may reload HAProxy and do nothing else through sudo
      const rules = await sh(lb, 'sudo -l -U consul');
      expect(rules).toContain('(root) NOPASSWD: /usr/bin/systemctl reload haproxy.service');
      for (const cmd of ['/usr/bin/systemctl restart haproxy.service', '/usr/bin/systemctl stop haproxy.service', '/bin/true', '/bin/sh -c id']) {
        const r = await stack.lab.ssh(lb, `runuser -u consul -- sudo -n ${cmd}`, { allowFail: true });
        expect(r.exitCode, `consul must not run: sudo ${cmd}`).not.toBe(0);
      }
      expect((await stack.lab.ssh(lb, 'runuser -u consul -- sudo -n /usr/bin/systemctl reload haproxy.service', { allowFail: true })).exitCode).toBe(0);
    }
  }), timeoutFor(B4));

  it('5. the server-state file exists after a reload and holds the servers', within(B5, async () => {
    for (const lb of [lb1, lb2]) {
      phase(`reload and read the state file on ${lb.name}`);
      await sh(lb, 'systemctl reload haproxy.service');
      const state = await sh(lb, 'cat /var/lib/haproxy/server-state');
      const lines = state.split('\n');
      expect(lines[0]).toBe('1');
      expect(lines[1]).toMatch(/^# be_id be_name srv_id srv_name srv_addr srv_op_state/);
      expect(state).toMatch(/ bk_tomcat \d+ tomcat\d* /);
      expect(state).toMatch(/ bk_payments \d+ payments-\d_8080 /);
    }
  }), timeoutFor(B5));

  it('6. a second apply reports zero changes and touches nothing; check exits 0', within(B6, async () => {
    for (const lb of [lb1, lb2]) await sh(lb, 'touch /run/provision-test-marker; sleep 1');
    phase('second apply');
    const r = await provision('apply', stack.inventoryPath);
    expect(r.code, r.output).toBe(0);
    expect(r.output).not.toMatch(/: changed /);
    expect(r.output).toMatch(/lb-1\s+ok\s+\d+\s+0\s+0/);
    for (const lb of [lb1, lb2]) {
      const touched = await sh(lb, 'find /etc/haproxy /etc/consul.d /etc/consul-template.d /etc/dnsmasq.d /etc/sudoers.d /etc/systemd/system /usr/local/bin -newer /run/provision-test-marker ! -name "payments.cfg*"');
      expect(touched.trim()).toBe('');
    }
    phase('check');
    const check = await provision('check', stack.inventoryPath);
    expect(check.code, check.output).toBe(0);
  }), timeoutFor(B6));

  it('7. drift (config edited, dnsmasq stopped, ACL removed) is found by check and repaired by apply', within(B7, async () => {
    await sh(lb1, 'echo "# edited by hand" >> /etc/haproxy/haproxy.cfg');
    await sh(lb1, 'systemctl stop dnsmasq');
    await sh(lb2, 'setfacl -b /etc/haproxy/conf.d');
    phase('check --diff');
    const json = path.join(stack.lab.runDir, 'drift.json');
    const check = await provision('check', stack.inventoryPath, '--diff', '--json', json);
    expect(check.code, check.output).toBe(2);
    expect(check.output).toContain('-# edited by hand');
    const drift = JSON.parse(await readFile(json, 'utf8'));
    const ids = (host: number) => drift.hosts[host].steps.filter((s: { change: unknown }) => s.change).map((s: { change: { id: string } }) => s.change.id);
    expect(ids(0)).toContain('template /etc/haproxy/haproxy.cfg');
    expect(ids(0)).toContain('service dnsmasq.service');
    expect(ids(1)).toContain('acl /etc/haproxy/conf.d');
    phase('repairing apply');
    const fix = await provision('apply', stack.inventoryPath);
    expect(fix.code, fix.output).toBe(0);
    expect((await sh(lb1, 'systemctl is-active dnsmasq')).trim()).toBe('active');
    expect(await sh(lb2, 'getfacl -p /etc/haproxy/conf.d')).toContain('default:user:consul:rw-');
    phase('check after the repair');
    expect((await provision('check', stack.inventoryPath)).code).toBe(0);
  }), timeoutFor(B7));

  it('8. an invalid HAProxy config fails on that host with HAProxy\'s own error; the old config stays and HAProxy keeps serving', within(B8, async () => {
    const doc = parseDocument(await readFile(stack.inventoryPath, 'utf8'));
    doc.setIn(['hosts', 'lb-1', 'vars'], {
      haproxy_frontends: [{ name: 'fe_http', bind: ':80', default_backend: 'bk_missing' }],
    });
    const broken = path.join(path.dirname(stack.inventoryPath), 'broken.yaml');
    await writeFile(broken, doc.toString());
    const before = await sh(lb1, 'sha256sum /etc/haproxy/haproxy.cfg');
    phase('apply of the invalid config');
    const r = await provision('apply', broken);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/lb-1: .*failed/);
    expect(r.output).toContain("unable to find required default_backend: 'bk_missing'");
    expect(r.output).toMatch(/lb-2: ok/);
    expect(await sh(lb1, 'sha256sum /etc/haproxy/haproxy.cfg')).toBe(before);
    expect(await sh(lb1, 'ls -A /etc/haproxy /etc/haproxy/conf.d')).not.toContain('.provision-');
    expect((await get(`http://${lb1.address}/`)).status).toBe(200);
    phase('check');
    expect((await provision('check', stack.inventoryPath)).code).toBe(0);
  }), timeoutFor(B8));
});
