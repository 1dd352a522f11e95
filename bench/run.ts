/**
 * `npm run bench`: provision against Ansible and pyinfra 3, side by side, on N aliases of
 * one loopback sshd. See README ("Benchmark") for what is measured and how to read the table.
 *
 *   --hosts 1,10,50     host counts (default 1,10,50; up to 1,10,50,100,200,500)
 *   --runs 5            runs per case per tool (default 5), tools alternating
 *   --runs-at 50=2      fewer (or more) runs at one N; comma-separated N=R pairs
 *   --ansible-runs-at 50=1   Ansible's runs at one N (0: provision and the floor only)
 *   --pyinfra-runs-at 50=1   the same for pyinfra
 *   --tools provision,ansible,pyinfra   (default: all three)
 *   --fixture lb|sake   lb: 28 steps + 1 handler (default); sake: 4 steps shaped like sake-performance
 *   --quick             --hosts 1,5 --runs 1, no profile
 *   --no-profile        skip the profile of provision at the largest N
 *   --out FILE          JSON results (default bench/results/<date>.json)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processTree, startSshd, type SshdFixture } from '../test/support/sshd.js';
import { compareTools } from './equivalence.js';
import { STATES, stepCount, writeFixture, type DesiredState, type Fixture, type SshEndpoint } from './fixture.js';
import { loadAverage, reapedCpuS, type Measured } from './measure.js';
import { profileProvision, type Profile } from './profile.js';
import { ensurePyinfra } from './pyinfra.js';
import { ensureTools, toolVersions } from './setup.js';
import { fileLimit, raiseSshdLimits } from './sshd-limits.js';
import { round, summarize, table, type Sample } from './summary.js';
import { CASES, REPO, TOOLS, cleanRoots, rotate, snapshotDist, closeMasters, runFloor, runTool, snapshot, verify, type Case, type Tool } from './tools.js';

interface Args {
  hosts: number[];
  runs: number;
  runsAt: Map<number, number>;
  /** Ansible's and pyinfra's own runs at one N (default: `runs`). */
  peerRunsAt: Record<'ansible' | 'pyinfra', Map<number, number>>;
  tools: Tool[];
  state: DesiredState;
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
  const a: Args = { hosts: [1, 10, 50], runs: 5, runsAt: new Map(), peerRunsAt: { ansible: new Map(), pyinfra: new Map() }, tools: [...TOOLS], state: STATES.lb, profile: true, out: path.join(REPO, 'bench/results', `${stamp}.json`) };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--hosts') a.hosts = ints(value(), '--hosts');
    else if (flag === '--runs') a.runs = ints(value(), '--runs')[0]!;
    else if (flag === '--runs-at' || flag === '--ansible-runs-at' || flag === '--pyinfra-runs-at') {
      for (const pair of value().split(',')) {
        const [n, r] = pair.split('=').map(Number);
        if (!Number.isInteger(n) || !Number.isInteger(r) || n! < 1 || r! < 0) throw new Error(`${flag}: expected N=R pairs, got ${pair}`);
        const into = flag === '--runs-at' ? a.runsAt : a.peerRunsAt[flag === '--ansible-runs-at' ? 'ansible' : 'pyinfra'];
        into.set(n!, r!);
      }
    } else if (flag === '--tools') {
      a.tools = value().split(',') as Tool[];
      if (!a.tools.length || !a.tools.every((t) => TOOLS.includes(t))) throw new Error(`--tools: some of ${TOOLS.join(',')}`);
    } else if (flag === '--fixture') {
      const name = value();
      if (!(name in STATES)) throw new Error(`--fixture: one of ${Object.keys(STATES).join(', ')}`);
      a.state = STATES[name as DesiredState['name']];
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

const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

async function sampleOf(tool: Tool | 'floor', c: Case, hosts: string[], run: number, sshd: SshdFixture, go: () => Promise<Measured>): Promise<Sample> {
  const n = hosts.length;
  const before = countLog(sshd);
  const cpuBefore = sshdCpuS(sshd);
  const loadAvg = loadAverage();
  const m = await go();
  // sshd logs and reaps asynchronously: let it settle (outside the timed window).
  await sleep(300);
  const after = countLog(sshd);
  const error = verify(tool, c, hosts, m);
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
      `peak ${s.maxRssMB} MB (tree ${s.treePssMB}), cpu ${s.controllerCpuS} s + remote ${s.remoteCpuS} s, load ${loadAvg}${error ? `  FAILED: ${error}` : ''}`,
  );
  return s;
}

/** Runs per tool at N: provision `runs`, a peer its own `--*-runs-at` (default `runs`). */
function runsOf(args: Args, tool: Tool, n: number, runs: number): number {
  return tool === 'provision' ? runs : (args.peerRunsAt[tool].get(n) ?? runs);
}

/**
 * Before anything is timed: every tool's first apply from an empty root on 2 hosts (not
 * timed), and the trees they leave must be identical (contents, modes, owners).
 */
async function sameTreeFirst(tools: Tool[], state: DesiredState, work: string, endpoint: SshEndpoint, cpDir: string, fixtures: Fixture[]): Promise<void> {
  const fx = writeFixture(path.join(work, 'preflight'), 2, endpoint, cpDir, state);
  fixtures.push(fx);
  const snaps: [string, string][] = [];
  for (const tool of tools) {
    cleanRoots();
    const m = await runTool(tool, 'first', fx, 0);
    const error = verify(tool, 'first', fx.hosts, m);
    if (error) throw new Error(`preflight: ${tool}'s first apply failed: ${error}`);
    snaps.push([tool, fx.hosts.map((h) => `${h}/\n${snapshot(h)}`).join('\n')]);
  }
  cleanRoots();
  const differs = compareTools(snaps);
  if (differs) throw new Error(`preflight: the tools do not converge to the same state, nothing was timed.\n${differs}`);
  log(`preflight: ${tools.join(', ')} leave identical trees on 2 hosts (${snaps[0]![1].split('\n').length} lines: path, type, mode, owner, group, sha256)`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('the benchmark writes under /srv/bench and /run/lock: run it as root');
  ensureTools(log);
  const pyinfraVersion = args.tools.includes('pyinfra') ? ensurePyinfra(log) : null;
  snapshotDist();
  const started = new Date();
  // Sessions start in an empty home: root's ~/.bashrc on a developer machine (pyenv init
  // here) would otherwise run in every SSH session, and weigh on each tool in proportion
  // to its sessions per host, not its own work (docs/benchmark.md).
  const sessionHome = mkdtempSync(path.join(os.tmpdir(), 'provision-bench-home-'));
  const sshd = await startSshd({ extraConfig: `SetEnv HOME=${sessionHome}` });
  const work = mkdtempSync(path.join(os.tmpdir(), 'provision-bench-'));
  // ControlPath must fit a unix socket name (108 bytes) plus ssh's temporary suffix.
  const cpDir = mkdtempSync('/tmp/bcp-');
  const samples: Sample[] = [];
  const fixtures: Fixture[] = [];
  const equivalence: Record<string, string> = {};
  const sshdLimits: Record<number, string> = {};
  let profile: Profile | undefined;
  let profileError: string | undefined;
  const endpoint = { host: sshd.host, port: sshd.port, clientKeyPath: sshd.clientKeyPath, knownHostsPath: sshd.knownHostsPath };
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    log('interrupted: finishing the current command, then cleaning up');
  });
  try {
    const what = `fixture ${args.state.name}: ${stepCount(args.state)} steps${args.state.handler ? ' + 1 handler' : ''}`;
    log(`sshd on ${sshd.host}:${sshd.port}; ${what}; tools ${args.tools.join(', ')}; load ${loadAverage()}`);
    if (args.tools.length > 1) await sameTreeFirst(args.tools, args.state, work, endpoint, cpDir, fixtures);
    for (const n of args.hosts) {
      if (interrupted) break;
      sshdLimits[n] = await raiseSshdLimits(sshd, n);
      const fx = writeFixture(path.join(work, `n${n}`), n, endpoint, cpDir, args.state);
      fixtures.push(fx);
      const runs = args.runsAt.get(n) ?? args.runs;
      log(`N=${n}: ${args.tools.map((t) => `${t} ${runsOf(args, t, n, runs)}`).join(', ')} run(s) per case; sshd ${sshdLimits[n]}`);
      for (let run = 1; run <= runs && !interrupted; run++) {
        samples.push(await sampleOf('floor', 'check', fx.hosts, run, sshd, () => runFloor(n, endpoint, 200)));
        // Case by case, the tools taking turns: every first apply starts from an empty
        // root; the later cases find the converged tree, the same whichever tool left it
        // (the preflight proved the trees identical).
        const tools = rotate(args.tools.filter((t) => run <= runsOf(args, t, n, runs)), run);
        for (const c of CASES) {
          for (const tool of tools) {
            if (interrupted) break;
            if (c === 'first') cleanRoots();
            samples.push(await sampleOf(tool, c, fx.hosts, run, sshd, () => runTool(tool, c, fx, 200)));
            if (c === 'first' && run === 1) equivalence[`${tool} N=${n}`] = snapshot(fx.hosts[0]!);
          }
        }
      }
      if (args.profile && n === Math.max(...args.hosts) && args.tools.includes('provision') && !interrupted) {
        log(`profile of provision at N=${n}`);
        // A failed profile (e.g. the floor's bare `ssh` timing out at N = 500) must not lose the runs above.
        try {
          profile = await profileProvision(fx, endpoint, work);
        } catch (e) {
          profileError = e instanceof Error ? e.message : String(e);
          log(`profile failed, the runs are kept: ${profileError.split('\n').slice(-3).join(' / ')}`);
        }
      }
    }
  } finally {
    for (const fx of fixtures) closeMasters(fx, endpoint);
    await sshd.stop();
    rmSync(work, { recursive: true, force: true });
    rmSync(cpDir, { recursive: true, force: true });
    rmSync(sessionHome, { recursive: true, force: true });
    cleanRoots();
    for (const fx of fixtures) for (const h of fx.hosts) rmSync(`/run/lock/provision-bench-${h}.lock`, { force: true });
  }

  const rows = summarize(samples, args.hosts, CASES, args.tools);
  const snapshots = Object.values(equivalence);
  const sameState = snapshots.length < 2 ? null : snapshots.every((s) => s === snapshots[0]);
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? '?',
    memGB: round(os.totalmem() / 2 ** 30, 1),
    kernel: os.release(),
    openFiles: fileLimit(),
    loadAvgAtStart: samples[0]?.loadAvg ?? '?',
    loadAvgAtEnd: loadAverage(),
  };
  const versions: Record<string, string> = { ...toolVersions(), pyinfra: pyinfraVersion ?? '-' };
  const result = {
    date: started.toISOString(),
    durationS: round((Date.now() - started.getTime()) / 1000, 0),
    args: {
      fixture: args.state.name,
      hosts: args.hosts,
      runs: args.runs,
      runsAt: Object.fromEntries(args.runsAt),
      ansibleRunsAt: Object.fromEntries(args.peerRunsAt.ansible),
      pyinfraRunsAt: Object.fromEntries(args.peerRunsAt.pyinfra),
      tools: args.tools,
    },
    machine,
    sshdLimits,
    versions,
    fixture: args.state.name,
    steps: stepCount(args.state),
    sameStateAllTools: sameState,
    rows,
    profile,
    profileError,
    samples,
  };
  mkdirSync(path.dirname(args.out), { recursive: true });
  writeFileSync(args.out, JSON.stringify(result, null, 2) + '\n');

  const out: string[] = [];
  out.push(`provision vs ${args.tools.filter((t) => t !== 'provision').join(' and ') || 'nothing'}: fixture ${args.state.name}, ${stepCount(args.state)} steps${args.state.handler ? ' + 1 handler' : ''}, N aliases of one loopback sshd, medians of the runs`);
  out.push(`machine: ${machine.cpus} x ${machine.cpuModel}, ${machine.memGB} GB, Linux ${machine.kernel}; load average ${machine.loadAvgAtStart} at start, ${machine.loadAvgAtEnd} at end`);
  out.push(`versions: node ${versions.node}, ${versions.ansible}, ${versions.pyinfra}, ${versions.openssh}`);
  out.push('');
  out.push(table(rows, args.tools));
  out.push('');
  out.push('x = that tool / provision; floor = N parallel `ssh HOST true`; prov/floor = provision check / floor; load = 1-min load average at the runs\' start;');
  out.push('sessions = sshd "Starting session" lines per host; peak = largest controller process RSS (the JSON has each tool\'s summed tree PSS too).');
  if (sameState !== null) out.push(`same end state on disk from every tool, every N: ${sameState ? 'yes' : 'NO (see the JSON)'}`);
  const failures = samples.filter((s) => !s.ok);
  if (failures.length) out.push(`${failures.length} failed run(s), left out of the medians: see "samples" in the JSON`);
  if (profile) out.push('', ...profile.lines);
  if (profileError) out.push('', `profile failed (runs kept): ${profileError.split('\n')[0]}`);
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
