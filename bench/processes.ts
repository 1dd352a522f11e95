/**
 * Processes the host runs: the probe (what a check costs a host) and the first apply
 * (every step changed) of one bench host, each run by a local `sh` under
 * `strace -ff` (one trace file per process, so the count is exact), against a private
 * copy of the host's root and lock (a temp dir: a running benchmark is never touched).
 * Printed by the profile as "processes per changed step".
 *
 *   npm run build && node --import tsx/esm bench/processes.ts    # standalone, on a 1-host fixture
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH_ROOT, writeFixture } from './fixture.js';
import { DIST, snapshotDist } from './tools.js';

export interface ProcessCount {
  /** Processes the script ran (the shell itself excluded), and the commands they exec'd by name. */
  processes: number;
  execs: Record<string, number>;
}

export interface HostProcesses {
  /** The probe of the host before its first apply, and once it is in sync (what a check costs it). */
  probe: ProcessCount;
  probeInSync: ProcessCount;
  firstApply: ProcessCount;
  changedSteps: number;
  perStep: number;
  lines: string[];
}

/** Runs `script` with `sh -s` under strace and counts the processes it started. */
function traced(script: string, dir: string): ProcessCount {
  const prefix = path.join(dir, 't');
  const r = spawnSync('strace', ['-ff', '-qq', '-e', 'trace=execve', '-o', prefix, '/bin/sh', '-s'], { input: script, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`traced script failed (exit ${r.status}): ${(r.stderr || r.stdout).slice(-800)}`);
  const files = readdirSync(dir).filter((f) => f.startsWith('t.'));
  const execs: Record<string, number> = {};
  for (const f of files) {
    for (const m of readFileSync(path.join(dir, f), 'utf8').matchAll(/^execve\("([^"]+)".*= 0$/gm)) {
      const name = path.basename(m[1]!);
      execs[name] = (execs[name] ?? 0) + 1;
    }
    rmSync(path.join(dir, f));
  }
  // The first exec is the shell itself (strace's child).
  execs.sh = (execs.sh ?? 1) - 1;
  if (execs.sh === 0) delete execs.sh;
  return { processes: files.length - 1, execs };
}

function top(execs: Record<string, number>): string {
  return Object.entries(execs)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([c, n]) => `${c} ${n}`)
    .join(', ');
}

/** The probe and first apply of the inventory's first host, its root and lock moved under a temp dir. */
export async function hostProcesses(inventoryFile: string): Promise<HostProcesses> {
  const load = (m: string) => import(pathToFileURL(path.join(DIST, m)).href);
  const { loadInventory } = (await load('config/inventory.js')) as typeof import('../src/config/inventory.js');
  const { buildJobs } = (await load('compile/jobs.js')) as typeof import('../src/compile/jobs.js');
  const { factRequests, diffAll, newNonce } = (await load('engine/host-run.js')) as typeof import('../src/engine/host-run.js');
  const { planProbe, probeScript, parseProbe } = (await load('resources/facts/index.js')) as typeof import('../src/resources/facts/index.js');
  const { buildApplyScript } = (await load('engine/apply-script.js')) as typeof import('../src/engine/apply-script.js');

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'provision-procs-'));
  try {
    const inventory = path.join(path.dirname(inventoryFile), 'procs.yaml');
    const text = readFileSync(inventoryFile, 'utf8').split(`${BENCH_ROOT}/`).join(`${tmp}/root/`).split('/run/lock/provision-bench-').join(`${tmp}/lock-`);
    writeFileSync(inventory, text);
    const inv = await loadInventory(inventory);
    const { jobs } = await buildJobs(inv, inv.select(undefined));
    rmSync(inventory);
    const job = jobs[0]!;
    const plan = planProbe(factRequests(job, false));
    const nonce = newNonce();
    const script = probeScript(plan, nonce).text;
    const probeRun = spawnSync('/bin/sh', ['-s'], { input: script, encoding: 'utf8' });
    const changes = diffAll(job, parseProbe(plan, probeRun.stdout, nonce), false);
    const apply = buildApplyScript(job, changes, nonce, { holder: 'controller=bench-processes', payloads: false });
    const probe = traced(script, mkdtempSync(path.join(tmp, 'probe-')));
    const firstApply = traced(apply.script.text, mkdtempSync(path.join(tmp, 'apply-')));
    const probeInSync = traced(script, mkdtempSync(path.join(tmp, 'probe-')));
    const perStep = firstApply.processes / Math.max(1, changes.length);
    const lines = [
      `processes on the host (one host, strace -ff of its sh):`,
      `  probe of the empty host       ${String(probe.processes).padStart(4)}   ${top(probe.execs)}`,
      `  probe in sync (a check)       ${String(probeInSync.processes).padStart(4)}   ${top(probeInSync.execs)}`,
      `  first apply, ${String(changes.length).padStart(2)} steps changed ${String(firstApply.processes).padStart(4)}   ${perStep.toFixed(1)} per changed step`,
      `    by command: ${top(firstApply.execs)}`,
    ];
    return { probe, probeInSync, firstApply, changedSteps: changes.length, perStep, lines };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  snapshotDist();
  const work = mkdtempSync(path.join(os.tmpdir(), 'provision-procs-fx-'));
  try {
    // No connection is made: the endpoint only fills the inventory.
    const fx = writeFixture(work, 1, { host: '127.0.0.1', port: 22, clientKeyPath: '/dev/null', knownHostsPath: '/dev/null' }, work);
    for (const line of (await hostProcesses(fx.provisionInventory)).lines) process.stdout.write(`${line}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
