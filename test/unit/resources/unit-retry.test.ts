/**
 * `_unit` (sh-lib): a unit action is retried once only when systemd could not attach the
 * process to its cgroup (219/CGROUP, a container race); any other failure is final.
 * Runs the real sh library against a fake `systemctl` that logs its calls.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SH_LIB } from '../../../src/resources/sh-lib.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'unit-retry-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A systemctl whose first `restart` fails with the given status line in `status`. */
function fakeSystemctl(statusLine: string): void {
  const script = `#!/bin/sh
echo "$*" >> "${dir}/calls"
case "$1" in
  restart) if [ ! -e "${dir}/failed-once" ]; then : > "${dir}/failed-once"; exit 1; fi; exit 0 ;;
  status) echo "    Process: 875 ExecStartPre=/bin/true (${statusLine})"; exit 3 ;;
  *) exit 0 ;;
esac
`;
  writeFileSync(path.join(dir, 'systemctl'), script);
  chmodSync(path.join(dir, 'systemctl'), 0o755);
}

function run(): { status: number | null; stderr: string; calls: string[] } {
  const r = spawnSync('/bin/sh', ['-c', `${SH_LIB}\n_unit restart dnsmasq.service`], {
    env: { PATH: `${dir}:/usr/bin:/bin` },
    encoding: 'utf8',
  });
  return { status: r.status, stderr: r.stderr, calls: readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n') };
}

describe('_unit', () => {
  it('retries once after a cgroup attach failure (219/CGROUP) and says so', () => {
    fakeSystemctl('code=exited, status=219/CGROUP');
    const r = run();
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('dnsmasq.service: systemd could not attach it to its cgroup (status 219/CGROUP); retrying restart once');
    expect(r.calls).toEqual([
      'restart -- dnsmasq.service',
      'status --no-pager -n 0 -- dnsmasq.service',
      'reset-failed -- dnsmasq.service',
      'restart -- dnsmasq.service',
    ]);
  });

  it('does not retry any other failure', () => {
    fakeSystemctl('code=exited, status=1/FAILURE');
    const r = run();
    expect(r.status).toBe(1);
    expect(r.calls).toEqual(['restart -- dnsmasq.service', 'status --no-pager -n 0 -- dnsmasq.service']);
  });
});
