/**
 * Peak memory of provision at N hosts (issue 16: 500 hosts under 200 MB), without the
 * whole benchmark: one loopback sshd (empty session home, limits raised for N), the
 * benchmark's fixture written once, then `provision apply|check` of dist/ under GNU time,
 * `nice -n 10`, each case `--runs` times. A first apply starts from empty roots. The host
 * roots live under /srv/bench-mem (not /srv/bench: a benchmark may be running).
 *
 *   npm run build && node --import tsx/esm bench/mem-fleet.ts --hosts 500 --cases first,second,check --runs 2
 *     [--node-arg=--trace-gc] [--snapshot-mb=180] [--heapprof=1] [--cli=OTHER/dist/cli/provision.js]
 *
 * Prints one line per run: case, peak RSS (GNU time %M), wall, CPU, and the in-process
 * peaks of heapUsed / external / arrayBuffers (bench/mem-watch.mjs).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSshd } from '../test/support/sshd.js';
import { BENCH_ROOT, writeFixture } from './fixture.js';
import { raiseSshdLimits } from './sshd-limits.js';
import { REPO } from './tools.js';

const MEM_ROOT = '/srv/bench-mem';

function arg(name: string, dflt: string): string {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  if (a) return a.slice(name.length + 3);
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
}

function cleanMemRoots(): void {
  if (!existsSync(MEM_ROOT)) return;
  for (const name of readdirSync(MEM_ROOT)) rmSync(path.join(MEM_ROOT, name), { recursive: true, force: true });
}

async function main(): Promise<void> {
  const n = Number(arg('hosts', '500'));
  const cases = arg('cases', 'first').split(',');
  const runs = Number(arg('runs', '1'));
  const nodeArgs = process.argv.filter((x) => x.startsWith('--node-arg=')).map((x) => x.slice('--node-arg='.length));
  const snapshotMb = arg('snapshot-mb', '');
  // Another build to compare with (an older commit's dist/cli/provision.js, or dist/cli/main.js: unbundled).
  const cli = arg('cli', path.join(REPO, 'dist/cli/provision.js'));
  const home = mkdtempSync(path.join(os.tmpdir(), 'provision-mem-home-'));
  const work = mkdtempSync(path.join(os.tmpdir(), 'provision-mem-'));
  // The fixture's Ansible ControlPath dir: unused here, but writeFixture wants one.
  const cpDir = mkdtempSync('/tmp/bcp-');
  const keep = Boolean(snapshotMb || arg('heapprof', '') || nodeArgs.length);
  const sshd = await startSshd({ extraConfig: `SetEnv HOME=${home}` });
  try {
    await raiseSshdLimits(sshd, n);
    const endpoint = { host: sshd.host, port: sshd.port, clientKeyPath: sshd.clientKeyPath, knownHostsPath: sshd.knownHostsPath };
    const fx = writeFixture(work, n, endpoint, cpDir, undefined);
    const inv = fx.provisionInventory;
    writeFileSync(inv, readFileSync(inv, 'utf8').split(`${BENCH_ROOT}/`).join(`${MEM_ROOT}/`).split('provision-bench-').join('provision-mem-'));
    const memOut = path.join(work, 'mem.jsonl');
    for (let run = 1; run <= runs; run++) {
      for (const c of cases) {
        if (c === 'first') cleanMemRoots();
        const cmd = c === 'check' ? 'check' : 'apply';
        const timeFile = path.join(work, 'time');
        const env = { ...process.env, MEM_WATCH_OUT: memOut, ...(snapshotMb ? { MEM_WATCH_SNAPSHOT_MB: snapshotMb } : {}), ...(arg('heapprof', '') ? { MEM_WATCH_HEAPPROF: path.join(work, `${c}-${run}.heapprofile`) } : {}) };
        const watch = path.join(REPO, 'bench/mem-watch.mjs');
        const r = spawnSync('nice', ['-n', '10', '/usr/bin/time', '-f', '%M %e %U %S', '-o', timeFile, process.execPath, '--import', watch, ...nodeArgs, cli, cmd, inv, '--forks', String(n)], { env, cwd: work, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
        const [kb, wall, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
        writeFileSync(path.join(work, `${c}-${run}.out`), r.stdout);
        const changed = (r.stdout.match(/: changed \(/g) ?? []).length;
        const mem = readFileSync(memOut, 'utf8').trim().split('\n').pop();
        console.log(`N=${n} run ${run} ${c}: exit ${r.status}, changed ${changed}, peak RSS ${(kb! / 1024).toFixed(1)} MB, wall ${wall} s, cpu ${(user! + sys!).toFixed(1)} s, load ${os.loadavg()[0]!.toFixed(1)}; ${mem}`);
        if (r.status !== 0 && !(c === 'check' && r.status === 2)) console.log(r.stdout.slice(-1500), r.stderr.slice(-1500));
        if (r.stderr.includes('mem-watch')) console.log(r.stderr.split('\n').filter((l) => l.includes('mem-watch')).join('\n'));
      }
    }
    if (keep) console.log(`work dir (profiles, snapshots, outputs): ${work}`);
  } finally {
    await sshd.stop();
    cleanMemRoots();
    for (const d of [home, cpDir, ...(keep ? [] : [work])]) rmSync(d, { recursive: true, force: true });
  }
}

await main();
