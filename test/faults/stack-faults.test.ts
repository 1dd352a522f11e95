/**
 * Faults on the load-balancer stack (issue 6): the SSH session killed while a step before
 * the HAProxy config change runs, and a HAProxy reload that is refused. HAProxy keeps
 * serving through both, no config file is half-written or unvalidated, and the next
 * apply converges.
 *
 * The stack's playbooks are copied per run with one gate step inserted before the main
 * HAProxy config: it waits for a file the test creates on the host.
 */
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../hosts/harness.js';
import { budget, phase, timeoutFor, within, WORK } from '../support/budget.js';
import { REPO, runCli, type CliResult } from '../support/cli.js';
import { startStackLab, type StackLab } from '../e2e/stack-lab.js';
import { startCli } from './support.js';

const LOCK = '/run/lock/provision.lock';
let stack: StackLab;
let lb1: TestHost;

function provision(...args: string[]): Promise<CliResult> {
  return runCli(args, { env: stack.env, timeoutMs: WORK.aptApply });
}

async function sh(host: TestHost, command: string): Promise<string> {
  return (await stack.lab.ssh(host, command)).stdout;
}

async function until(host: TestHost, command: string, what: string): Promise<void> {
  phase(`${host.name}: waiting for ${what}`);
  // Bounded by time, not by a count of tries: each try is an ssh round trip, slow under load.
  for (const deadline = Date.now() + WORK.converge; Date.now() < deadline; ) {
    if ((await stack.lab.ssh(host, command, { allowFail: true })).exitCode === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${host.name}: timed out waiting for ${what}`);
}

async function status(url: string): Promise<number> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(3000) })).status;
  } catch {
    return 0;
  }
}

/** Sets inventory vars of the `lb` group in the per-run inventory. */
async function setVars(vars: Record<string, unknown>): Promise<void> {
  const doc = parseDocument(await readFile(stack.inventoryPath, 'utf8'));
  for (const [k, v] of Object.entries(vars)) doc.setIn(['groups', 'lb', 'vars', k], v);
  await writeFile(stack.inventoryPath, doc.toString());
}

const GATE = `  - name: Fault gate
    command:
      cmd: "until [ -e /run/fault-go-{{ fault_round }} ]; do sleep 0.2; done; touch /run/fault-done-{{ fault_round }}"
      creates: "/run/fault-done-{{ fault_round }}"
    when: "fault_round > 0"

  - name: Main configuration
`;

const SETUP = budget(WORK.image, WORK.boot, WORK.aptApply);
beforeAll(within(SETUP, async () => {
  phase('booting the stack lab');
  stack = await startStackLab({ log: () => {}, tomcats: 1, payments: 1 });
  lb1 = stack.lbs[0]!;
  const playbooks = path.join(stack.lab.runDir, 'fault-playbooks');
  await cp(path.join(REPO, 'playbooks'), playbooks, { recursive: true });
  const haproxy = path.join(playbooks, 'haproxy.yaml');
  const text = await readFile(haproxy, 'utf8');
  expect(text).toContain('  - name: Main configuration\n');
  await writeFile(haproxy, text.replace('  - name: Main configuration\n', GATE));
  const doc = parseDocument(await readFile(stack.inventoryPath, 'utf8'));
  doc.setIn(['settings', 'playbooks_dir'], playbooks);
  await writeFile(stack.inventoryPath, doc.toString());
  await setVars({ fault_round: 0 });
  const first = await provision('apply', stack.inventoryPath);
  expect(first.code, first.output).toBe(0);
  expect(await status(`http://${lb1.address}/`)).toBe(200);
}), timeoutFor(SETUP));

afterAll(async () => {
  await stack?.teardown();
}, 120_000);

describe('HAProxy under faults', () => {
  it('the session killed before the config change: HAProxy keeps serving, nothing half-written, the next apply converges', within(budget(3 * WORK.apply, WORK.inspect), async () => {
    const before = await sh(lb1, 'sha256sum /etc/haproxy/haproxy.cfg');
    await setVars({ fault_round: 1, haproxy_timeout_client: '51s' });
    const run = startCli(['apply', stack.inventoryPath, '--limit', 'lb-1'], stack.env);
    await run.waitFor(/lb-1: applying/);
    await until(lb1, `grep -q 'session=' ${LOCK} && pgrep -f 'fault-go-1' >/dev/null`, 'the gate step to run');
    const session = (await sh(lb1, `sed -n 's/.*session=\\([0-9]*\\).*/\\1/p' ${LOCK}`)).trim();
    await sh(lb1, `kill -9 ${session}`);
    const r = await run.done;
    expect(r.code, r.output).toBe(1);
    expect(r.output).toContain('lb-1: failed: connection lost during step "Fault gate"; re-run to converge');
    await sh(lb1, 'touch /run/fault-go-1');
    await until(lb1, `flock -n ${LOCK} true`, 'the orphaned apply to exit');
    // The step after the gate never ran: the installed config is the old one, and valid.
    expect(await sh(lb1, 'sha256sum /etc/haproxy/haproxy.cfg')).toBe(before);
    expect(await sh(lb1, 'ls -A /etc/haproxy /etc/haproxy/conf.d /tmp | grep -F .provision- || true')).toBe('');
    expect((await stack.lab.ssh(lb1, 'haproxy -c -q -f /etc/haproxy/haproxy.cfg -f /etc/haproxy/conf.d', { allowFail: true })).exitCode).toBe(0);
    expect(await status(`http://${lb1.address}/`)).toBe(200);

    const again = await provision('apply', stack.inventoryPath, '--limit', 'lb-1');
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain('lb-1: handler reload haproxy: ran');
    expect(await sh(lb1, 'grep -c "timeout client 51s" /etc/haproxy/haproxy.cfg')).toBe('1\n');
    expect(await status(`http://${lb1.address}/`)).toBe(200);
    const check = await provision('check', stack.inventoryPath, '--limit', 'lb-1');
    expect(check.code, check.output).toBe(0);
  }), timeoutFor(budget(3 * WORK.apply, WORK.inspect)));

  it('a refused reload is reported as a failed handler; the installed files stay valid and HAProxy keeps serving', within(budget(1 * WORK.apply, WORK.inspect), async () => {
    await sh(
      lb1,
      "printf '[Service]\\nExecReload=\\nExecReload=/bin/sh -c \"echo reload refused by the fault test >&2; exit 1\"\\n' > /etc/systemd/system/haproxy.service.d/99-fault.conf && systemctl daemon-reload",
    );
    try {
      await setVars({ haproxy_timeout_client: '52s' });
      const json = path.join(stack.lab.runDir, 'handler-fault.json');
      const r = await provision('apply', stack.inventoryPath, '--limit', 'lb-1', '--json', json);
      expect(r.code, r.output).toBe(1);
      expect(r.output).toContain('lb-1: handler reload haproxy: FAILED');
      expect(r.output).toMatch(/lb-1: failed: handler "reload haproxy" failed: /);
      const report = JSON.parse(await readFile(json, 'utf8')) as { hosts: { status: string; handlers: { name: string; status: string }[]; steps: { name: string; status: string }[] }[] };
      expect(report.hosts[0]!.handlers).toEqual([expect.objectContaining({ name: 'reload haproxy', status: 'failed' })]);
      expect(report.hosts[0]!.steps.find((s) => s.name === 'Main configuration')?.status).toBe('changed');
      expect(await sh(lb1, 'grep -c "timeout client 52s" /etc/haproxy/haproxy.cfg')).toBe('1\n');
      expect((await stack.lab.ssh(lb1, 'haproxy -c -q -f /etc/haproxy/haproxy.cfg -f /etc/haproxy/conf.d', { allowFail: true })).exitCode).toBe(0);
      expect(await sh(lb1, 'systemctl is-active haproxy.service')).toBe('active\n');
      expect(await status(`http://${lb1.address}/`)).toBe(200);
    } finally {
      await sh(lb1, 'rm -f /etc/systemd/system/haproxy.service.d/99-fault.conf && systemctl daemon-reload');
    }
  }), timeoutFor(budget(1 * WORK.apply, WORK.inspect)));
});
