/**
 * `npm run bench`: provision against Ansible, side by side, on N aliases of one loopback
 * sshd. See README ("Benchmark") for what is measured and how to read the table.
 *
 *   --hosts 1,10,50     host counts (default 1,10,50)
 *   --runs 5            runs per case per tool (default 5), tools alternating
 *   --runs-at 50=2      fewer (or more) runs at one N; comma-separated N=R pairs
 *   --ansible-runs-at 50=1   Ansible's runs at one N (0: provision and the floor only)
 *   --tools provision,ansible
 *   --quick             --hosts 1,5 --runs 1, no profile
 *   --no-profile        skip the profile of provision at the largest N
 *   --out FILE          JSON results (default bench/results/<date>.json)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processTree, startSshd, type SshdFixture } from '../test/support/sshd.js';
import { STEP_COUNT, writeFixture, type Fixture } from './fixture.js';
import { loadAverage, median, reapedCpuS, type Measured } from './measure.js';
import { profileProvision, type Profile } from './profile.js';
import { ensureTools, toolVersions } from './setup.js';
import { CASES, REPO, cleanRoots, snapshotDist, closeMasters, runFloor, runTool, snapshot, verify, type Case, type Tool } from './tools.js';

interface Args {
  hosts: number[];
  runs: number;
  runsAt: Map<number, number>;
  ansibleRunsAt: Map<number, number>;
  tools: Tool[];
  profile: boolean;
  out: string;
}

function parseArgs(argv: string[]): Args {
  const ints = (v: string, what: string) =>
    v.split(',').map((x) => {
      const n = Number(x);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${what}: expected positive integers, got ${v}`);
      return n;
    });
  const stamp = new Date().toISOString().replace(/:/g, '-').replace(/\..*/, '');
  const a: Args = { hosts: [1, 10, 50], runs: 5, runsAt: new Map(), ansibleRunsAt: new Map(), tools: ['provision', 'ansible'], profile: true, out: path.join(REPO, 'bench/results', `${stamp}.json`) };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--hosts') a.hosts = ints(value(), '--hosts');
    else if (flag === '--runs') a.runs = ints(value(), '--runs')[0]!;
    else if (flag === '--runs-at' || flag === '--ansible-runs-at') {
      for (const pair of value().split(',')) {
        const [n, r] = pair.split('=').map(Number);
        if (!Number.isInteger(n) || !Number.isInteger(r) || n! < 1 || r! < 0) throw new Error(`${flag}: expected N=R pairs, got ${pair}`);
        (flag === '--runs-at' ? a.runsAt : a.ansibleRunsAt).set(n!, r!);
      }
    } else if (flag === '--tools') {
      a.tools = value().split(',') as Tool[];
      if (!a.tools.every((t) => t === 'provision' || t === 'ansible')) throw new Error('--tools: provision and/or ansible');
    } else if (flag === '--quick') {
      a.hosts = [1, 5];
      a.runs = 1;
      a.profile = false;
    } else if (flag === '--no-profile') a.profile = false;
    else if (flag === '--out') a.out = path.resolve(value());
    else throw new Error(`unknown argument ${flag} (see the header of bench/run.ts)`);
  }
  return a;
}

interface Sample {
  tool: Tool | 'floor';
  case: Case;
  n: number;
  run: number;
  wallS: number;
  ok: boolean;
  error?: string;
  /** SSH connections accepted by sshd ("Accepted publickey"). */
  connections: number;
  /** Sessions opened ("Starting session:": exec commands and subsystems such as sftp). */
  sessions: number;
  maxRssMB: number;
  treePssMB: number;
  controllerCpuS: number;
  /** CPU used under sshd during the run: sshd itself and every remote process. */
  remoteCpuS: number;
  loadAvg: string;
}

interface Row {
  case: Case;
  n: number;
  runs: string;
  provisionS: number | null;
  ansibleS: number | null;
  /** ansible / provision. */
  ratio: number | null;
  floorS: number | null;
  /** provision check / floor. */
  vsFloor: number | null;
  provisionSessionsPerHost: number | null;
  ansibleSessionsPerHost: number | null;
  ansibleConnectionsPerHost: number | null;
  provisionPeakMB: number | null;
  ansiblePeakMB: number | null;
  ansibleTreePeakMB: number | null;
  provisionCpuS: number | null;
  ansibleCpuS: number | null;
  provisionRemoteCpuS: number | null;
  ansibleRemoteCpuS: number | null;
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

/** Sum of CPU (own + reaped children) over sshd's whole process tree, in seconds. */
function sshdCpuS(sshd: SshdFixture): number {
  return processTree(sshd.pid).reduce((acc, p) => acc + reapedCpuS(p), 0);
}

function countLog(sshd: SshdFixture): { connections: number; sessions: number } {
  const text = sshd.log();
  return {
    connections: (text.match(/Accepted publickey for /g) ?? []).length,
    sessions: (text.match(/Starting session: /g) ?? []).length,
  };
}

async function sampleOf(tool: Tool | 'floor', c: Case, n: number, run: number, sshd: SshdFixture, go: () => Promise<Measured>): Promise<Sample> {
  const before = countLog(sshd);
  const cpuBefore = sshdCpuS(sshd);
  const loadAvg = loadAverage();
  const m = await go();
  // sshd logs and reaps asynchronously: let it settle (outside the timed window).
  await sleep(300);
  const after = countLog(sshd);
  const error = verify(tool, c, n, m);
  const s: Sample = {
    tool,
    case: c,
    n,
    run,
    wallS: round(m.wallMs / 1000),
    ok: error === null,
    connections: after.connections - before.connections,
    sessions: after.sessions - before.sessions,
    maxRssMB: round(m.maxRssKb / 1024, 1),
    treePssMB: round(m.treePssKb / 1024, 1),
    controllerCpuS: round(m.cpuS, 2),
    remoteCpuS: round(sshdCpuS(sshd) - cpuBefore, 2),
    loadAvg,
  };
  if (error) s.error = error;
  log(
    `  ${tool.padEnd(9)} ${c.padEnd(6)} N=${n} run ${run}: ${s.wallS.toFixed(2)} s, ${s.sessions} sessions / ${s.connections} connections, ` +
      `peak ${s.maxRssMB} MB (tree ${s.treePssMB}), cpu ${s.controllerCpuS} s + remote ${s.remoteCpuS} s${error ? `  FAILED: ${error}` : ''}`,
  );
  return s;
}

function summarize(samples: Sample[], ns: number[]): Row[] {
  const rows: Row[] = [];
  for (const n of ns) {
    for (const c of CASES) {
      const of = (tool: Tool | 'floor') => samples.filter((s) => s.tool === tool && s.n === n && s.case === c && s.ok);
      const med = (tool: Tool | 'floor', f: (s: Sample) => number) => {
        const xs = of(tool);
        return xs.length ? round(median(xs.map(f))) : null;
      };
      const max = (tool: Tool | 'floor', f: (s: Sample) => number) => {
        const xs = of(tool);
        return xs.length ? Math.max(...xs.map(f)) : null;
      };
      const p = med('provision', (s) => s.wallS);
      const a = med('ansible', (s) => s.wallS);
      const floor = c === 'check' ? med('floor', (s) => s.wallS) : null;
      rows.push({
        case: c,
        n,
        runs: `${of('provision').length}|${of('ansible').length}`,
        provisionS: p,
        ansibleS: a,
        ratio: p && a ? round(a / p, 1) : null,
        floorS: floor,
        vsFloor: p && floor ? round(p / floor, 2) : null,
        provisionSessionsPerHost: med('provision', (s) => s.sessions / n),
        ansibleSessionsPerHost: med('ansible', (s) => s.sessions / n),
        ansibleConnectionsPerHost: med('ansible', (s) => s.connections / n),
        provisionPeakMB: max('provision', (s) => s.maxRssMB),
        ansiblePeakMB: max('ansible', (s) => s.maxRssMB),
        ansibleTreePeakMB: max('ansible', (s) => s.treePssMB),
        provisionCpuS: med('provision', (s) => s.controllerCpuS),
        ansibleCpuS: med('ansible', (s) => s.controllerCpuS),
        provisionRemoteCpuS: med('provision', (s) => s.remoteCpuS),
        ansibleRemoteCpuS: med('ansible', (s) => s.remoteCpuS),
      });
    }
  }
  return rows;
}

const CASE_NAMES: Record<Case, string> = { first: 'first apply', second: 'no-change apply', check: 'check' };

function table(rows: Row[]): string {
  const f = (x: number | null, d = 2) => (x === null ? '-' : x.toFixed(d));
  const head = ['case', 'N', 'runs p|a', 'provision s', 'ansible s', 'ratio', 'floor s', 'prov/floor', 'sessions/host p|a', 'peak MB p|a (a tree)', 'cpu s p|a'];
  const body = rows.map((r) => [
    CASE_NAMES[r.case],
    String(r.n),
    r.runs,
    f(r.provisionS, 3),
    f(r.ansibleS),
    r.ratio === null ? '-' : `${r.ratio.toFixed(1)}x`,
    f(r.floorS, 3),
    f(r.vsFloor),
    `${f(r.provisionSessionsPerHost, 1)} | ${f(r.ansibleSessionsPerHost, 1)}`,
    `${f(r.provisionPeakMB, 0)} | ${f(r.ansiblePeakMB, 0)} (${f(r.ansibleTreePeakMB, 0)})`,
    `${f(r.provisionCpuS)} | ${f(r.ansibleCpuS)}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('the benchmark writes under /srv/bench and /run/lock: run it as root');
  ensureTools(log);
  snapshotDist();
  const started = new Date();
  const sshd = await startSshd();
  const work = mkdtempSync(path.join(os.tmpdir(), 'provision-bench-'));
  // ControlPath must fit a unix socket name (108 bytes) plus ssh's temporary suffix.
  const cpDir = mkdtempSync('/tmp/bcp-');
  const samples: Sample[] = [];
  const fixtures: Fixture[] = [];
  const equivalence: Record<string, string> = {};
  let profile: Profile | undefined;
  const endpoint = { host: sshd.host, port: sshd.port, clientKeyPath: sshd.clientKeyPath, knownHostsPath: sshd.knownHostsPath };
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    log('interrupted: finishing the current command, then cleaning up');
  });
  try {
    log(`sshd on ${sshd.host}:${sshd.port}; ${STEP_COUNT} steps + 1 handler; tools ${args.tools.join(', ')}; load ${loadAverage()}`);
    for (const n of args.hosts) {
      const fx = writeFixture(path.join(work, `n${n}`), n, endpoint, cpDir);
      fixtures.push(fx);
      const runs = args.runsAt.get(n) ?? args.runs;
      log(`N=${n}: ${runs} run(s) per case per tool${args.ansibleRunsAt.has(n) ? ` (Ansible: ${args.ansibleRunsAt.get(n)})` : ''}`);
      for (let run = 1; run <= runs && !interrupted; run++) {
        samples.push(await sampleOf('floor', 'check', n, run, sshd, () => runFloor(n, endpoint, 200)));
        // Alternate which tool goes first.
        const ansibleRuns = args.ansibleRunsAt.get(n) ?? runs;
        const tools = args.tools.filter((t) => t !== 'ansible' || run <= ansibleRuns);
        const order = run % 2 ? tools : [...tools].reverse();
        for (const tool of order) {
          cleanRoots();
          for (const c of CASES) {
            if (interrupted) break;
            samples.push(await sampleOf(tool, c, n, run, sshd, () => runTool(tool, c, fx, 200)));
          }
          if (run === 1) equivalence[`${tool} N=${n}`] = snapshot(fx.hosts[0]!);
        }
      }
      if (args.profile && n === Math.max(...args.hosts) && args.tools.includes('provision') && !interrupted) {
        log(`profile of provision at N=${n}`);
        profile = await profileProvision(fx, endpoint, work);
      }
    }
  } finally {
    for (const fx of fixtures) closeMasters(fx, endpoint);
    await sshd.stop();
    rmSync(work, { recursive: true, force: true });
    rmSync(cpDir, { recursive: true, force: true });
    cleanRoots();
    for (const fx of fixtures) for (const h of fx.hosts) rmSync(`/run/lock/provision-bench-${h}.lock`, { force: true });
  }

  const rows = summarize(samples, args.hosts);
  const snapshots = Object.values(equivalence);
  const sameState = snapshots.length < 2 ? null : snapshots.every((s) => s === snapshots[0]);
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? '?',
    memGB: round(os.totalmem() / 2 ** 30, 1),
    kernel: os.release(),
    loadAvgAtEnd: loadAverage(),
  };
  const result = {
    date: started.toISOString(),
    durationS: round((Date.now() - started.getTime()) / 1000, 0),
    args: { hosts: args.hosts, runs: args.runs, runsAt: Object.fromEntries(args.runsAt), ansibleRunsAt: Object.fromEntries(args.ansibleRunsAt), tools: args.tools },
    machine,
    versions: toolVersions(),
    steps: STEP_COUNT,
    sameStateBothTools: sameState,
    rows,
    profile,
    samples,
  };
  mkdirSync(path.dirname(args.out), { recursive: true });
  writeFileSync(args.out, JSON.stringify(result, null, 2) + '\n');

  const out: string[] = [];
  out.push(`provision vs Ansible: ${STEP_COUNT} steps + 1 handler, N aliases of one loopback sshd, medians of the runs`);
  out.push(`machine: ${machine.cpus} x ${machine.cpuModel}, ${machine.memGB} GB, Linux ${machine.kernel}; load average at end ${machine.loadAvgAtEnd}`);
  out.push(`versions: node ${result.versions.node}, ${result.versions.ansible}, ${result.versions.openssh}`);
  out.push('');
  out.push(table(rows));
  out.push('');
  out.push('ratio = ansible / provision; floor = N parallel `ssh HOST true`; prov/floor = provision check / floor;');
  out.push('sessions = sshd "Starting session" lines per host; peak = largest controller process RSS (a tree = Ansible\'s summed PSS).');
  if (sameState !== null) out.push(`same end state on disk from both tools: ${sameState ? 'yes' : 'NO (see the JSON)'}`);
  const failures = samples.filter((s) => !s.ok);
  if (failures.length) out.push(`${failures.length} failed run(s), left out of the medians: see "samples" in the JSON`);
  if (profile) out.push('', ...profile.lines);
  out.push('', `results: ${path.relative(process.cwd(), args.out)}`);
  process.stdout.write(out.join('\n') + '\n');
  if (failures.length || sameState === false) process.exitCode = 1;
  if (sameState === false) {
    for (const [k, v] of Object.entries(equivalence)) log(`--- ${k}\n${v}`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
