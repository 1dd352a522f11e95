/**
 * pyinfra 3, the second peer: installed on first use into a virtualenv over Debian's
 * Python packages (pyinfra 3 is not on Debian 12 and this machine reaches no package
 * index), from the source archive and wheels kept in bench/peers/pyinfra-3/ (see the
 * README there for where they come from and their licences).
 *
 *   python3 -m venv --system-site-packages VENV      Debian's gevent, paramiko, click, ...
 *   VENV/bin/pip install --no-index --no-deps PEERS/*.whl
 *   VENV/bin/pip install --no-index --no-deps --no-build-isolation SRC
 *
 * The Debian packages it imports are declared in test/hosts/packages.ts (BENCH_PYTHON_MODULES).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (tools.ts imports this module: no import back, no cycle). */
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const PEERS = path.join(REPO, 'bench/peers/pyinfra-3');
/** Per clone, beside the bench's copy of dist/ (node_modules/ is never committed). */
export const VENV = path.join(REPO, 'node_modules/.cache/provision-bench/pyinfra-venv');
export const PYINFRA = path.join(VENV, 'bin/pyinfra');
const PIP = path.join(VENV, 'bin/pip');

function step(what: string, cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`installing pyinfra: ${what} failed (${[cmd, ...args].join(' ')}):\n${`${r.stdout}${r.stderr}${r.error ?? ''}`.trim().split('\n').slice(-10).join('\n')}`);
  }
}

/** `pyinfra --version` of the venv, or null when it is missing or broken. */
export function pyinfraVersion(): string | null {
  if (!existsSync(PYINFRA)) return null;
  const r = spawnSync(PYINFRA, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? `pyinfra ${r.stdout.trim().replace(/^pyinfra:\s*/, '')}` : null;
}

/** Installs pyinfra into VENV when it is not there yet; returns its version. */
export function ensurePyinfra(log: (line: string) => void): string {
  const have = pyinfraVersion();
  if (have) return have;
  const archive = readdirSync(PEERS).find((f) => f.startsWith('pyinfra-') && f.endsWith('.tar.gz'));
  const wheels = readdirSync(PEERS).filter((f) => f.endsWith('.whl'));
  if (!archive) throw new Error(`pyinfra's source archive is missing from ${PEERS} (see bench/peers/pyinfra-3/README.md)`);
  log(`installing ${archive} into ${path.relative(REPO, VENV)}`);
  rmSync(VENV, { recursive: true, force: true });
  step('the virtualenv', '/usr/bin/python3', ['-m', 'venv', '--system-site-packages', VENV]);
  step('its wheels', PIP, ['install', '-q', '--no-index', '--no-deps', ...wheels.map((w) => path.join(PEERS, w))]);
  const src = mkdtempSync(path.join(VENV, 'src-'));
  try {
    step('unpacking its source', 'tar', ['-xzf', path.join(PEERS, archive), '-C', src]);
    step('pyinfra', PIP, ['install', '-q', '--no-index', '--no-deps', '--no-build-isolation', src]);
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
  const version = pyinfraVersion();
  if (!version) throw new Error(`installed pyinfra into ${VENV} but \`pyinfra --version\` fails`);
  return version;
}

/** The operations pyinfra reported per host while running (`[HOST] Success` / `No changes` / `Error`). */
export function pyinfraOutcomes(output: string): { changedHosts: Set<string>; errors: number; hostsSeen: Set<string> } {
  const changedHosts = new Set<string>();
  const hostsSeen = new Set<string>();
  let errors = 0;
  for (const m of output.matchAll(/^\s+\[([^\]]+)\] (Success|No changes|Error)\b/gm)) {
    hostsSeen.add(m[1]!);
    if (m[2] === 'Success') changedHosts.add(m[1]!);
    else if (m[2] === 'Error') errors++;
  }
  return { changedHosts, errors, hostsSeen };
}

/**
 * The operations a `--dry` run would change now: rows of its "Detected changes" table whose
 * Change column is not "-". The handler's row only ever shows a Conditional Change (its
 * condition is decided while running), so it is not a change.
 */
export function pyinfraDryChanges(output: string): string[] {
  const at = output.indexOf('--> Detected changes:');
  if (at < 0) return ['(no "Detected changes" table in the output)'];
  const rows = output.slice(at).split('\n').slice(2);
  const changed: string[] = [];
  for (const row of rows) {
    if (!row.trim() || row.startsWith('-->')) break;
    const cells = row.trim().split(/\s{2,}/);
    if (cells.length >= 2 && cells[1] !== '-') changed.push(cells[0]!);
  }
  return changed;
}

/** Null when a pyinfra run did what its case means; otherwise why not. */
export function verifyPyinfra(c: 'first' | 'second' | 'check', hosts: string[], output: string): string | null {
  if (c === 'check') {
    const changed = pyinfraDryChanges(output);
    const ready = new Set([...output.matchAll(/\[([^\]]+)\] Ready: deploy\.py/g)].map((m) => m[1]));
    if (ready.size !== hosts.length) return `the dry run prepared ${ready.size}/${hosts.length} hosts`;
    return changed.length ? `the dry run would change: ${changed.join(', ')}` : null;
  }
  const r = pyinfraOutcomes(output);
  if (r.errors) return `${r.errors} operation(s) failed`;
  const missing = hosts.filter((h) => !r.hostsSeen.has(h));
  if (missing.length) return `no outcome for ${missing.length} host(s), e.g. ${missing[0]}`;
  if (c === 'first' && r.changedHosts.size !== hosts.length) return `first apply: ${r.changedHosts.size}/${hosts.length} hosts changed`;
  if (c === 'second' && r.changedHosts.size) return `second apply changed ${r.changedHosts.size} hosts`;
  return null;
}
