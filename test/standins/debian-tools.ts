/**
 * The real HAProxy and dnsmasq binaries, without installing (or starting) them on the
 * test machine: `apt-get download` the .debs once into a cache, `dpkg -x` them into a
 * temp dir, and run them with LD_LIBRARY_PATH pointing at the extracted libraries.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DEB_CACHE = '/var/cache/provision-test/debs';

/** The packages and the libraries they need that a minimal Debian 12 lacks. */
const PACKAGES = [
  'haproxy',
  'liblua5.3-0',
  'libopentracing-c-wrapper0',
  'libopentracing1',
  'dnsmasq-base',
  'libnetfilter-conntrack3',
  'libnftables1',
  'libnfnetlink0',
  'libnftnl11',
];

export interface DebianTools {
  root: string;
  haproxy: string;
  dnsmasq: string;
  /** Environment to run the extracted binaries with. */
  env: NodeJS.ProcessEnv;
}

function haveDeb(pkg: string, files: string[]): boolean {
  return files.some((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
}

export function extractDebianTools(): DebianTools {
  mkdirSync(DEB_CACHE, { recursive: true });
  let files = readdirSync(DEB_CACHE);
  const missing = PACKAGES.filter((p) => !haveDeb(p, files));
  if (missing.length > 0) {
    const r = spawnSync('apt-get', ['download', ...missing], { cwd: DEB_CACHE, encoding: 'utf8' });
    if (r.status !== 0) {
      throw new Error(
        `apt-get download ${missing.join(' ')} failed in ${DEB_CACHE} (run as root, after apt-get update):\n${r.stderr}`,
      );
    }
    files = readdirSync(DEB_CACHE);
  }
  const root = mkdtempSync(join(tmpdir(), 'provision-debs-'));
  for (const pkg of PACKAGES) {
    // One version per package: the newest file name sorts last.
    const deb = files.filter((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb')).sort().at(-1);
    if (!deb) throw new Error(`${pkg}: no .deb in ${DEB_CACHE}`);
    const r = spawnSync('dpkg', ['-x', join(DEB_CACHE, deb), root], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`dpkg -x ${deb}: ${r.stderr}`);
  }
  const haproxy = join(root, 'usr/sbin/haproxy');
  const dnsmasq = join(root, 'usr/sbin/dnsmasq');
  if (!existsSync(haproxy) || !existsSync(dnsmasq)) throw new Error(`haproxy or dnsmasq missing in ${root}`);
  return {
    root,
    haproxy,
    dnsmasq,
    env: { ...process.env, LD_LIBRARY_PATH: join(root, 'usr/lib/x86_64-linux-gnu') },
  };
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: env ?? process.env, timeout: 30_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
