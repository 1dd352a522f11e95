/**
 * The commands under test, each run through `measure`, and the check that a run did what
 * it claims (a benchmark of a failing run would be meaningless).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_ROOT, type Fixture, type SshEndpoint } from './fixture.js';
import { snapshotTree } from './equivalence.js';
import { measure, type Measured } from './measure.js';
import { PYINFRA, verifyPyinfra } from './pyinfra.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/**
 * The CLI under test: a copy of dist/ taken when the benchmark starts, so a rebuild of
 * dist/ during a long run cannot change (or break) what is measured. It sits under
 * node_modules/ so that its imports resolve to the project's dependencies.
 */
export const DIST = path.join(REPO, 'node_modules/.cache/provision-bench/dist');
export const CLI = path.join(DIST, 'cli/provision.js');

export function snapshotDist(): void {
  const src = path.join(REPO, 'dist');
  if (!existsSync(path.join(src, 'cli/provision.js'))) throw new Error('dist/ is missing: run `npm run build` (npm run bench does)');
  rmSync(DIST, { recursive: true, force: true });
  cpSync(src, DIST, { recursive: true });
  // The CLI reads its version from the package.json above dist/.
  cpSync(path.join(REPO, 'package.json'), path.join(DIST, '..', 'package.json'));
  // The remote sh library is read from sh/ beside dist/ (src/resources/sh-lib.ts).
  rmSync(path.join(DIST, '..', 'sh'), { recursive: true, force: true });
  cpSync(path.join(REPO, 'sh'), path.join(DIST, '..', 'sh'), { recursive: true });
}

export type Tool = 'provision' | 'ansible' | 'pyinfra';
export const TOOLS: Tool[] = ['provision', 'ansible', 'pyinfra'];
export type Case = 'first' | 'second' | 'check';
export const CASES: Case[] = ['first', 'second', 'check'];

/** Tools in the order of this run: rotated by one each run, so each goes first in turn. */
export function rotate<T>(xs: T[], run: number): T[] {
  const k = xs.length ? (run - 1) % xs.length : 0;
  return [...xs.slice(k), ...xs.slice(0, k)];
}


/** The environment both tools run in: no agent, no colours, no TTY. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', NO_COLOR: '1', ...extra };
  delete env.SSH_AUTH_SOCK;
  delete env.FORCE_COLOR;
  return env;
}

export function ansibleEnv(fx: Fixture): NodeJS.ProcessEnv {
  return cleanEnv({
    ANSIBLE_CONFIG: fx.ansibleConfig,
    ANSIBLE_HOME: path.join(fx.ansibleDir, 'home'),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
  });
}

export function runTool(tool: Tool, c: Case, fx: Fixture, sampleMs: number): Promise<Measured> {
  const n = fx.hosts.length;
  if (tool === 'provision') {
    const cmd = c === 'check' ? 'check' : 'apply';
    return measure(process.execPath, [CLI, cmd, fx.provisionInventory, '--forks', String(n)], { env: cleanEnv(), sampleMs });
  }
  if (tool === 'pyinfra') {
    // -y: apply without the confirmation prompt (what automation runs); --dry: its check.
    const args = [c === 'check' ? '--dry' : '-y', '--parallel', String(n), fx.pyinfra.inventory, 'deploy.py'];
    return measure(PYINFRA, args, { env: cleanEnv(), cwd: fx.pyinfra.dir, sampleMs });
  }
  const args = ['-i', fx.ansibleInventory, fx.ansiblePlaybook, '--forks', String(n)];
  if (c === 'check') args.push('--check');
  return measure('ansible-playbook', args, { env: ansibleEnv(fx), cwd: fx.ansibleDir, sampleMs });
}

/** The floor: N parallel OpenSSH `ssh HOST true`, new connections, no multiplexing. */
export function runFloor(n: number, ssh: SshEndpoint, sampleMs: number): Promise<Measured> {
  const one = [
    'ssh', '-o', 'BatchMode=yes', '-o', 'ControlMaster=no', '-o', 'ControlPath=none', '-o', 'IdentitiesOnly=yes',
    '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${ssh.knownHostsPath}`, '-i', ssh.clientKeyPath,
    '-p', String(ssh.port), `root@${ssh.host}`, 'true',
  ].map((w) => `'${w}'`).join(' ');
  const script = `rc=0; i=0; pids=; while [ $i -lt ${n} ]; do ${one} & pids="$pids $!"; i=$((i+1)); done; for p in $pids; do wait $p || rc=1; done; exit $rc`;
  return measure('/bin/sh', ['-c', script], { env: cleanEnv(), sampleMs });
}

/** Per-host change counts from Ansible's PLAY RECAP, or an error. */
export function ansibleRecap(stdout: string): { changed: number; failed: number; unreachable: number; hosts: number } {
  let changed = 0;
  let failed = 0;
  let unreachable = 0;
  let hosts = 0;
  const recap = stdout.slice(stdout.lastIndexOf('PLAY RECAP'));
  for (const m of recap.matchAll(/^\S+\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)) {
    hosts++;
    changed += Number(m[1]);
    unreachable += Number(m[2]);
    failed += Number(m[3]);
  }
  return { changed, failed, unreachable, hosts };
}

/** Null when the run did what its case means; otherwise why not. */
export function verify(tool: Tool | 'floor', c: Case, hosts: string[], m: Measured): string | null {
  const n = hosts.length;
  const tail = () => (m.stdout + m.stderr).trim().split('\n').slice(-8).join('\n');
  if (m.code !== 0) return `exit ${m.code}:\n${tail()}`;
  if (tool === 'floor') return null;
  if (tool === 'pyinfra') return verifyPyinfra(c, hosts, m.stdout + m.stderr);
  if (tool === 'ansible') {
    const r = ansibleRecap(m.stdout);
    if (r.hosts !== n) return `PLAY RECAP lists ${r.hosts} hosts, expected ${n}:\n${tail()}`;
    if (r.failed || r.unreachable) return `failed=${r.failed} unreachable=${r.unreachable}`;
    if (c === 'first' && r.changed === 0) return 'first apply changed nothing';
    if (c !== 'first' && r.changed !== 0) return `${c} reported ${r.changed} changes`;
    return null;
  }
  const changedHosts = (m.stdout.match(/^\S+: changed \([\d.]+ s\)$/gm) ?? []).length;
  if (c === 'first' && changedHosts !== n) return `first apply: ${changedHosts}/${n} hosts changed:\n${tail()}`;
  if (c === 'second' && changedHosts !== 0) return `second apply changed ${changedHosts} hosts`;
  return null;
}

/** Empty every host root (a first apply starts from nothing). */
export function cleanRoots(): void {
  if (!existsSync(BENCH_ROOT)) return;
  for (const name of readdirSync(BENCH_ROOT)) rmSync(path.join(BENCH_ROOT, name), { recursive: true, force: true });
}

/** What one host's root holds (see bench/equivalence.ts): all tools must leave the same tree. */
export function snapshot(host: string): string {
  return snapshotTree(path.join(BENCH_ROOT, host));
}

/** Close Ansible's ControlPersist masters (they outlive ansible-playbook by design). */
export function closeMasters(fx: Fixture, ssh: SshEndpoint): void {
  for (const cp of fx.controlPaths) {
    if (!existsSync(cp)) continue;
    spawnSync('ssh', ['-o', `ControlPath=${cp}`, '-O', 'exit', '-p', String(ssh.port), `root@${ssh.host}`], { stdio: 'ignore' });
  }
}
