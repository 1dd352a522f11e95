/**
 * The harness itself, on real containers: two hosts and a backend boot, talk to each
 * other over the lab bridge, install from the offline apt cache, verify host keys, and
 * teardown leaves nothing behind. Needs root; the first run builds the base image
 * (a minute or two), later runs reuse it.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linksOf, mountsUnder, netnsOf, nspawnPidsOf } from './cleanup.js';
import { run } from './exec.js';
import { startLab, type Lab, type TestHost } from './harness.js';
import { markerPathOf } from './names.js';
import { sshRun } from './ssh.js';

const log = (line: string): void => console.log(`[lab] ${line}`);

describe('test lab: 2 hosts + 1 backend', () => {
  let lab: Lab;
  let h1: TestHost;
  let h2: TestHost;
  let backend: TestHost;

  beforeAll(async () => {
    lab = await startLab({ hosts: ['h1', 'h2'], log });
    [h1, h2] = lab.hosts as [TestHost, TestHost];
    backend = await lab.addBackend('tomcat-1');
  }, 15 * 60_000);

  afterAll(async () => {
    await lab?.teardown();
  }, 60_000);

  it('gives each host its address in the lab subnet and the controller the bridge address', () => {
    expect(lab.hosts.map((h) => h.name)).toEqual(['h1', 'h2']);
    expect(lab.controllerAddress).toBe(`${lab.subnetPrefix}.1`);
    expect(h1.address).toMatch(new RegExp(`^${lab.subnetPrefix.replace(/\./g, '\\.')}\\.\\d+$`));
    expect(new Set([h1.address, h2.address, backend.address]).size).toBe(3);
    expect(lab.bridge.length).toBeLessThanOrEqual(15);
  });

  it('boots systemd in every host', async () => {
    for (const host of lab.hosts) {
      const r = await lab.ssh(host, 'systemctl is-system-running; hostname');
      const [state, hostname] = r.stdout.trim().split('\n');
      expect(['running', 'degraded']).toContain(state);
      expect(hostname).toBe(host.name);
    }
  }, 30_000);

  it('installs curl from the offline apt cache and reaches host 2 and the backend over the bridge', async () => {
    const install = await lab.ssh(h1, 'DEBIAN_FRONTEND=noninteractive apt-get install -y --no-download curl 2>&1');
    expect(install.stdout).toMatch(/Setting up curl/);
    const viaHttp = await lab.ssh(h1, `curl -sS --max-time 5 http://${backend.address}:8080/`);
    expect(viaHttp.stdout).toBe('tomcat-1\n');
    // Host 2's sshd, reached from host 1, presents the key the lab recorded for it.
    const scanned = await lab.ssh(h1, `ssh-keyscan -T 5 -t ed25519 ${h2.address} 2>/dev/null`);
    const known = await readFile(lab.knownHostsPath, 'utf8');
    const h2Line = known.split('\n').find((l) => l.startsWith(`${h2.address} `));
    expect(h2Line).toBeDefined();
    expect(scanned.stdout.trim()).toBe(h2Line);
    // And by name, through the /etc/hosts the lab writes.
    const byName = await lab.ssh(h1, 'getent hosts h2');
    expect(byName.stdout.split(/\s+/)[0]).toBe(h2.address);
  }, 120_000);

  it('lets the controller reach the backend', async () => {
    const r = await run('curl', ['-sS', '--max-time', '5', `http://${backend.address}:8080/anything`]);
    expect(r.stdout).toBe('tomcat-1\n');
  }, 30_000);

  it('records real host keys: strict checking succeeds, a wrong key is refused', async () => {
    const lines = (await readFile(lab.knownHostsPath, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(/^\d+\.\d+\.\d+\.\d+ ssh-ed25519 AAAA\S+$/);
    const ok = await lab.ssh(h2, 'echo verified');
    expect(ok.stdout).toBe('verified\n');
    // h1's key filed under h2's address: OpenSSH must refuse, so the file is what is checked.
    const h1Key = lines.find((l) => l.startsWith(`${h1.address} `))!.split(' ').slice(1).join(' ');
    const wrong = join(lab.runDir, 'known_hosts.wrong');
    await writeFile(wrong, `${h2.address} ${h1Key}\n`);
    const refused = await sshRun({ keyPath: lab.sshKeyPath, knownHostsPath: wrong }, h2.address, 'true', {
      allowFail: true,
    });
    expect(refused.exitCode).toBe(255);
    expect(refused.stderr).toMatch(/host key/i);
  }, 30_000);

  it('removes a backend', async () => {
    const extra = await lab.addBackend('tomcat-2');
    expect((await run('curl', ['-sS', '--max-time', '5', `http://${extra.address}:8080/`])).stdout).toBe('tomcat-2\n');
    await lab.removeBackend('tomcat-2');
    const gone = await run('curl', ['-sS', '--max-time', '3', `http://${extra.address}:8080/`], { allowFail: true });
    expect(gone.exitCode).not.toBe(0);
    expect(netnsOf(lab.runId).some((ns) => ns.endsWith('-b-tomcat-2'))).toBe(false);
  }, 60_000);

  it('tears down completely and idempotently', async () => {
    const started = Date.now();
    await lab.teardown();
    log(`teardown took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await lab.teardown();
    expect(nspawnPidsOf(lab.runId)).toEqual([]);
    expect(netnsOf(lab.runId)).toEqual([]);
    expect(linksOf(lab.runId)).toEqual([]);
    expect(mountsUnder(lab.runDir)).toEqual([]);
    expect((await run('ip', ['-o', 'link'])).stdout).not.toContain(lab.bridge);
    expect(existsSync(lab.runDir)).toBe(false);
    expect(existsSync(markerPathOf(lab.runId))).toBe(false);
  }, 60_000);
});
