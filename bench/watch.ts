/**
 * `npm run bench:watch`: a watch cycle over held connections against a cold `check` of the
 * same hosts, in the same run. N aliases of one loopback sshd (the benchmark's fixture:
 * 28 steps per host), each host writing under its own root in a temp dir (not
 * /srv/bench, so it never collides with `npm run bench`).
 *
 *   --hosts 50      aliases (default 50)
 *   --cycles 5      warm watch cycles timed (default 5)
 *   --checks 3      cold checks timed (default 3)
 *
 * Prints: cold check wall time (median), the first watch cycle (connects included), the
 * warm cycles (median, max), SSH connections and exec sessions per warm cycle counted in
 * sshd's own log, and the watcher's RSS with every connection held.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadInventory } from '../src/config/inventory.js';
import { buildJobs } from '../src/compile/jobs.js';
import { Redactor } from '../src/report/redact.js';
import { HistoryStore } from '../src/watch/history.js';
import { Watcher } from '../src/watch/watcher.js';
import { startSshd, type SshdFixture } from '../test/support/sshd.js';
import { BENCH_ROOT, writeFixture } from './fixture.js';
import { measure, median } from './measure.js';
import { cleanEnv, REPO } from './tools.js';

const CLI = path.join(REPO, 'dist/cli/provision.js');
const log = (line: string) => process.stderr.write(`${line}\n`);

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name}: a positive whole number`);
  return v;
}

function counts(sshd: SshdFixture): { connections: number; sessions: number } {
  const text = sshd.log();
  return { connections: (text.match(/Accepted publickey for /g) ?? []).length, sessions: (text.match(/Starting session: /g) ?? []).length };
}

/** The fixture's inventory, moved off /srv/bench and the shared lock names. */
function privateInventory(work: string, n: number, sshd: SshdFixture): string {
  const fx = writeFixture(work, n, { host: sshd.host, port: sshd.port, clientKeyPath: sshd.clientKeyPath, knownHostsPath: sshd.knownHostsPath }, mkdtempSync('/tmp/wcp-'));
  const roots = path.join(work, 'roots');
  const text = readFileSync(fx.provisionInventory, 'utf8').split(`${BENCH_ROOT}/`).join(`${roots}/`).split('/run/lock/provision-bench-').join(`${work}/lock-`);
  writeFileSync(fx.provisionInventory, text);
  return fx.provisionInventory;
}

async function coldChecks(inventory: string, runs: number): Promise<number[]> {
  const walls: number[] = [];
  for (let i = 0; i < runs; i++) {
    const m = await measure(process.execPath, [CLI, 'check', inventory], { env: cleanEnv(), sampleMs: 0 });
    if (m.code !== 0) throw new Error(`cold check exited ${m.code}:\n${m.stdout.slice(-2000)}${m.stderr.slice(-2000)}`);
    walls.push(m.wallMs);
  }
  return walls;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (the fixture sets owners)');
  const n = arg('--hosts', 50);
  const cycles = arg('--cycles', 5);
  const checks = arg('--checks', 3);
  const sshd = await startSshd();
  const work = mkdtempSync(path.join(os.tmpdir(), 'provision-watch-bench-'));
  try {
    const inventory = privateInventory(work, n, sshd);
    log(`${n} aliases of sshd ${sshd.host}:${sshd.port}; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    const first = await measure(process.execPath, [CLI, 'apply', inventory], { env: cleanEnv(), sampleMs: 0 });
    if (first.code !== 0) throw new Error(`first apply exited ${first.code}:\n${first.stdout.slice(-2000)}`);
    const cold = await coldChecks(inventory, checks);

    const inv = await loadInventory(inventory);
    const built = await buildJobs(inv, inv.select(undefined), { retryDelaysMs: [] });
    const history = await HistoryStore.open(path.join(work, 'history.jsonl'));
    const watcher = new Watcher(built.jobs, { intervalMs: 3_600_000, forks: n, repair: false, redactor: new Redactor(inv.secretValues), history, holder: 'bench', log });
    let t = Date.now();
    await watcher.cycle();
    const firstCycle = Date.now() - t;
    const bad = watcher.views().filter((v) => v.status !== 'in-sync');
    if (bad.length) throw new Error(`not in sync after the first cycle: ${bad.map((v) => `${v.host} ${v.status} ${v.last?.error ?? ''}`).join('; ')}`);
    const before = counts(sshd);
    const warm: number[] = [];
    for (let i = 0; i < cycles; i++) {
      t = Date.now();
      await watcher.cycle();
      warm.push(Date.now() - t);
    }
    await new Promise((r) => setTimeout(r, 300)); // sshd logs asynchronously
    const after = counts(sshd);
    const rssMb = process.memoryUsage().rss / 1048576;
    await watcher.stop();

    const s = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
    const out = [
      `hosts ${n}, 28 steps each; node ${process.version}; ${os.cpus().length} cores; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`,
      `cold check (new process, ${n} connects):       median ${s(median(cold))} of ${checks} (${cold.map(s).join(', ')})`,
      `watch, first cycle (connects included):       ${s(firstCycle)}`,
      `watch, warm cycle over held connections:      median ${s(median(warm))}, max ${s(Math.max(...warm))} of ${cycles}`,
      `per warm cycle: ${(after.connections - before.connections) / cycles} new SSH connections, ${(after.sessions - before.sessions) / cycles} exec sessions (${n} hosts)`,
      `watcher RSS with ${n} connections held:       ${rssMb.toFixed(0)} MB`,
    ];
    process.stdout.write(out.join('\n') + '\n');
  } finally {
    await sshd.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  log(`bench: ${(e as Error).message}`);
  process.exitCode = 1;
});
