/**
 * Restart pending on real Debian hosts (issue 12, "services in general"): a file that
 * notifies a service's handler and changed after the service started is drift, even when
 * its content is back to what the inventory declares; `apply` repairs it by running that
 * handler. The whole stack (Consul, dnsmasq, HAProxy, consul-template) converged by apply
 * must first check in sync: no file of any service is reported without cause.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../hosts/harness.js';
import { runCli, type CliResult } from '../support/cli.js';
import { startStackLab, type StackLab } from './stack-lab.js';

let stack: StackLab;
let lb: TestHost;
const CONF = '/etc/dnsmasq.d/10-consul';
const STEP = 'Forward .consul to the Consul agent';

async function provision(...args: string[]): Promise<CliResult> {
  return runCli(args, { env: stack.env, timeoutMs: 400_000 });
}

async function sh(host: TestHost, command: string): Promise<string> {
  return (await stack.lab.ssh(host, command)).stdout.trim();
}

/** dnsmasq's main pid and start (seconds), as systemd records them. */
async function dnsmasq(host: TestHost): Promise<{ pid: string; start: number }> {
  const out = await sh(host, 'systemctl show --timestamp=unix -p ExecMainPID,ExecMainStartTimestamp dnsmasq.service');
  const pid = /^ExecMainPID=(\d+)$/m.exec(out)?.[1] ?? '';
  const start = Number(/^ExecMainStartTimestamp=@(\d+)$/m.exec(out)?.[1]);
  return { pid, start };
}

const CT = '/etc/consul-template.d/config.hcl';
const FAIL_DROPIN = '/run/systemd/system/consul-template.service.d/50-reload-fails.conf';

/** A unit's times and reload result, as systemd records them. */
async function unitTimes(host: TestHost, unit: string): Promise<{ pid: string; start: number; change: number; reload: string }> {
  const out = await sh(host, `systemctl show --timestamp=unix -p ExecMainPID,ExecMainStartTimestamp,StateChangeTimestamp,ReloadResult ${unit}`);
  const get = (k: string) => new RegExp(`^${k}=@?(.*)$`, 'm').exec(out)?.[1] ?? '';
  return { pid: get('ExecMainPID'), start: Number(get('ExecMainStartTimestamp')), change: Number(get('StateChangeTimestamp')), reload: get('ReloadResult') };
}

/** Edit a file by hand and put its content back once the host clock is past `after` + 3 s; its new mtime. */
async function editAndPutBack(host: TestHost, file: string, after: number): Promise<number> {
  await sh(host, `while [ "$(date +%s)" -le ${after + 3} ]; do sleep 0.5; done`);
  const sum = await sh(host, `sha256sum ${file}`);
  await sh(host, `cp ${file} /root/orig && echo '# hand edit' >> ${file} && cp /root/orig ${file}`);
  expect(await sh(host, `sha256sum ${file}`), 'content put back').toBe(sum);
  return Number(await sh(host, `stat -c %Y ${file}`));
}

const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

interface JsonHost {
  host: string;
  status: string;
  execs: number;
  steps: { name: string; status: string; change: { reason: string; attrs: { field: string; before: string; after: string }[] } | null }[];
  handlers: { name: string; status: string }[];
}

async function report(file: string): Promise<Map<string, JsonHost>> {
  const r = JSON.parse(await readFile(file, 'utf8')) as { hosts: JsonHost[] };
  return new Map(r.hosts.map((h) => [h.host, h]));
}

beforeAll(async () => {
  stack = await startStackLab({ log: () => {}, tomcats: 1, payments: 1 });
  lb = stack.lbs[0]!;
}, 600_000);

afterAll(async () => {
  await stack?.teardown();
});

describe('restart pending: a service runs files older than the ones it is given', () => {
  it('1. the stack converges and checks in sync: no service is reported without cause', async () => {
    const r = await provision('apply', stack.inventoryPath);
    expect(r.code, r.output).toBe(0);
    const check = await provision('check', stack.inventoryPath);
    expect(check.code, check.output).toBe(0);
    expect(check.output).not.toMatch(/(restart|reload) pending/);
  }, 600_000);

  it('2. a dnsmasq config edited by hand and put back is reported by check (exit 2, --diff, --json) in one exec', async () => {
    const before = await dnsmasq(lb);
    expect(before.start).toBeGreaterThan(0);
    // Past the comparison's whole-second slack after the start (a condition, not a timer).
    await sh(lb, `while [ "$(date +%s)" -le ${before.start + 3} ]; do sleep 0.5; done`);
    const sum = await sh(lb, `sha256sum ${CONF}`);
    await sh(lb, `cp ${CONF} /root/10-consul.orig && echo 'server=/example/127.0.0.9' >> ${CONF} && cp /root/10-consul.orig ${CONF}`);
    expect(await sh(lb, `sha256sum ${CONF}`), 'content put back').toBe(sum);
    const mtime = Number(await sh(lb, `stat -c %Y ${CONF}`));
    expect(mtime).toBeGreaterThan(before.start + 2);

    const json = path.join(stack.lab.runDir, 'restart-pending-check.json');
    const check = await provision('check', stack.inventoryPath, '--diff', '--json', json);
    expect(check.code, check.output).toBe(2);
    const line = `restart pending: ${CONF} changed at ${iso(mtime)}, dnsmasq.service started at ${iso(before.start)} (repair: handler "restart dnsmasq")`;
    expect(check.output).toContain(`${lb.name}: ~ ${STEP}: ${line}`);
    // --diff shows the two times.
    expect(check.output).toContain(`dnsmasq.service loaded ${CONF}`);
    const hosts = await report(json);
    const h = hosts.get(lb.name)!;
    expect(h.status).toBe('drift');
    expect(h.execs).toBe(1);
    const step = h.steps.find((s) => s.name === STEP)!;
    expect(step.change?.reason).toBe(line);
    expect(step.change?.attrs).toEqual([{ field: `dnsmasq.service loaded ${CONF}`, before: iso(before.start), after: iso(mtime) }]);
    // The other load balancer was not touched: in sync, and nothing else on this one drifted.
    expect(hosts.get(stack.lbs[1]!.name)?.status, check.output).toBe('in-sync');
    expect(h.steps.filter((s) => s.change).map((s) => s.name)).toEqual([STEP]);
    // check changed nothing: the same dnsmasq process runs.
    expect((await dnsmasq(lb)).pid).toBe(before.pid);
  }, 600_000);

  it("3. apply repairs it by running the file's handler (restart dnsmasq), in two execs; check is then in sync", async () => {
    const before = await dnsmasq(lb);
    const mtime = Number(await sh(lb, `stat -c %Y ${CONF}`));
    const json = path.join(stack.lab.runDir, 'restart-pending-apply.json');
    const r = await provision('apply', stack.inventoryPath, '--json', json);
    expect(r.code, r.output).toBe(0);
    const h = (await report(json)).get(lb.name)!;
    expect(h.status).toBe('changed');
    expect(h.execs).toBeLessThanOrEqual(2);
    expect(h.steps.find((s) => s.name === STEP)?.status).toBe('changed');
    expect(h.handlers).toEqual([{ name: 'restart dnsmasq', status: 'changed' }]);
    const after = await dnsmasq(lb);
    expect(after.pid).not.toBe(before.pid);
    expect(after.start).toBeGreaterThanOrEqual(mtime);
    // The file itself was not rewritten (same mtime): only the service was restarted.
    expect(Number(await sh(lb, `stat -c %Y ${CONF}`))).toBe(mtime);
    expect(await sh(lb, 'systemctl is-active dnsmasq.service')).toBe('active');
    const check = await provision('check', stack.inventoryPath);
    expect(check.code, check.output).toBe(0);
  }, 600_000);

  it('4. a reload-capable unit: a file changed after the last reload is reload pending; apply reloads (same pid)', async () => {
    const lb2 = stack.lbs[1]!;
    await sh(lb2, 'systemctl reload consul-template.service');
    const reloaded = await unitTimes(lb2, 'consul-template.service');
    expect(reloaded.reload).toBe('success');
    const mtime = await editAndPutBack(lb2, CT, reloaded.change);
    const check = await provision('check', stack.inventoryPath, '--limit', lb2.name);
    expect(check.code, check.output).toBe(2);
    expect(check.output).toContain(
      `reload pending: ${CT} changed at ${iso(mtime)}, consul-template.service last reloaded at ${iso(reloaded.change)} (repair: handler "reload consul-template")`,
    );
    const json = path.join(stack.lab.runDir, 'reload-pending-apply.json');
    const r = await provision('apply', stack.inventoryPath, '--limit', lb2.name, '--json', json);
    expect(r.code, r.output).toBe(0);
    const h = (await report(json)).get(lb2.name)!;
    expect(h.handlers, r.output).toEqual([{ name: 'reload consul-template', status: 'changed' }]);
    expect(h.execs).toBeLessThanOrEqual(2);
    const after = await unitTimes(lb2, 'consul-template.service');
    expect(after.pid, 'a reload, not a restart').toBe(reloaded.pid);
    expect(after.change).toBeGreaterThanOrEqual(mtime);
    expect((await provision('check', stack.inventoryPath)).code).toBe(0);
  }, 600_000);

  it('5. a reload that failed after the file changed is drift, although systemd moved the unit\'s state time past the file', async () => {
    const lb2 = stack.lbs[1]!;
    // The unit's reload now fails (as a reload whose validation rejects the new file would).
    await sh(lb2, `mkdir -p ${path.posix.dirname(FAIL_DROPIN)} && printf '[Service]\\nExecReload=\\nExecReload=/bin/false\\n' > ${FAIL_DROPIN} && systemctl daemon-reload`);
    const before = await unitTimes(lb2, 'consul-template.service');
    const mtime = await editAndPutBack(lb2, CT, before.change);
    await sh(lb2, `while [ "$(date +%s)" -le ${mtime + 3} ]; do sleep 0.5; done`);
    const failed = await stack.lab.ssh(lb2, 'systemctl reload consul-template.service', { allowFail: true });
    expect(failed.exitCode).not.toBe(0);
    const t = await unitTimes(lb2, 'consul-template.service');
    expect(t.reload).toBe('exit-code');
    expect(t.change, 'the failed reload still moved StateChangeTimestamp').toBeGreaterThan(mtime + 2);
    const check = await provision('check', stack.inventoryPath, '--limit', lb2.name);
    expect(check.code, check.output).toBe(2);
    expect(check.output).toContain(
      `reload pending: ${CT} changed at ${iso(mtime)}, consul-template.service started at ${iso(t.start)} (its last reload failed: exit-code)`,
    );
    // The cause is fixed; apply's reload handler now succeeds and the drift is gone.
    await sh(lb2, `rm -f ${FAIL_DROPIN} && systemctl daemon-reload`);
    const r = await provision('apply', stack.inventoryPath, '--limit', lb2.name);
    expect(r.code, r.output).toBe(0);
    expect((await unitTimes(lb2, 'consul-template.service')).reload).toBe('success');
    const again = await provision('check', stack.inventoryPath);
    expect(again.code, again.output).toBe(0);
  }, 600_000);
});
