/**
 * The benchmark's "same tree" gate, on real directories: a difference in content, mode,
 * owner or a missing path is found and named; the handler's log compares by line count.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareTools, diffSnapshots, snapshotTree } from '../../../bench/equivalence.js';
import { sshdConfigFor } from '../../../bench/sshd-limits.js';

const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tree(edit: (root: string) => void = () => {}): string {
  const root = mkdtempSync(path.join(tmpdir(), 'bench-tree-'));
  made.push(root);
  mkdirSync(path.join(root, 'etc/haproxy'), { recursive: true });
  mkdirSync(path.join(root, 'var/lib/haproxy'), { recursive: true });
  writeFileSync(path.join(root, 'etc/haproxy/haproxy.cfg'), 'global\n', { mode: 0o644 });
  writeFileSync(path.join(root, 'var/lib/haproxy/reloads'), 'Sun Nov 29 06:00:00 UTC 2026\n');
  chmodSync(path.join(root, 'etc/haproxy/haproxy.cfg'), 0o644);
  edit(root);
  return snapshotTree(root);
}

describe('bench equivalence: snapshots of real trees', () => {
  it('two equal trees give equal snapshots, the handler log compared by its line count', () => {
    const a = tree();
    const b = tree((r) => writeFileSync(path.join(r, 'var/lib/haproxy/reloads'), 'Mon Nov 30 07:00:00 UTC 2026\n'));
    expect(a).toBe(b);
    expect(a).toContain('var/lib/haproxy/reloads f 644 root root lines=1');
    expect(compareTools([['provision', a], ['pyinfra', b]])).toBeNull();
  });

  it('names a different content, mode, owner and a missing path', () => {
    const a = tree();
    const content = tree((r) => writeFileSync(path.join(r, 'etc/haproxy/haproxy.cfg'), 'global\n  daemon\n'));
    const mode = tree((r) => chmodSync(path.join(r, 'etc/haproxy'), 0o750));
    const owner = tree((r) => chownSync(path.join(r, 'var/lib/haproxy'), 65534, 65534));
    const missing = tree((r) => rmSync(path.join(r, 'var/lib/haproxy/reloads')));
    const twice = tree((r) => writeFileSync(path.join(r, 'var/lib/haproxy/reloads'), 'a\nb\n'));
    expect(diffSnapshots(a, content)).toHaveLength(2);
    expect(diffSnapshots(a, mode)).toEqual(['- etc/haproxy d 755 root root', '+ etc/haproxy d 750 root root']);
    expect(diffSnapshots(a, owner)[1]).toBe('+ var/lib/haproxy d 755 nobody nogroup');
    expect(diffSnapshots(a, missing)).toEqual(['- var/lib/haproxy/reloads f 644 root root lines=1']);
    expect(diffSnapshots(a, twice)).toEqual(['- var/lib/haproxy/reloads f 644 root root lines=1', '+ var/lib/haproxy/reloads f 644 root root lines=2']);
    expect(compareTools([['provision', a], ['ansible', a], ['pyinfra', mode]])).toMatch(/^pyinfra left a different tree than provision/);
  });
});

describe('bench sshd limits', () => {
  const config = 'Port 1\nMaxStartups 200:30:500\nMaxSessions 200\nSubsystem sftp internal-sftp\n';
  it('lets N simultaneous handshakes in without random drops, never lowering the defaults', () => {
    expect(sshdConfigFor(config, 500)).toBe('Port 1\nMaxStartups 1000\nMaxSessions 500\nSubsystem sftp internal-sftp\n');
    expect(sshdConfigFor(config, 10)).toBe('Port 1\nMaxStartups 500\nMaxSessions 200\nSubsystem sftp internal-sftp\n');
  });
});
