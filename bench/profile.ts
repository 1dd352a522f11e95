/**
 * Where a `provision check` of N hosts spends its time, measured piece by piece in the
 * same environment: node's own startup, loading + expanding every host without
 * connecting (`validate`), the SSH floor (N parallel `ssh HOST true`), the probe script
 * run N times in parallel by a local `sh` (the remote processes, without SSH), the
 * whole check, and a V8 CPU profile of one check grouped by module.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Fixture, SshEndpoint } from './fixture.js';
import { measure, median } from './measure.js';
import { CLI, DIST, cleanEnv, runFloor } from './tools.js';
import { hostProcesses, type HostProcesses } from './processes.js';

/** The probe script of one host, built by the same snapshot of dist/ the CLI runs. */
async function probeOf(inventoryFile: string): Promise<string> {
  const load = (m: string) => import(pathToFileURL(path.join(DIST, m)).href);
  const { loadInventory } = (await load('config/inventory.js')) as typeof import('../src/config/inventory.js');
  const { buildJobs } = (await load('compile/jobs.js')) as typeof import('../src/compile/jobs.js');
  const { factRequests, newNonce } = (await load('engine/host-run.js')) as typeof import('../src/engine/host-run.js');
  const { planProbe, probeScript } = (await load('resources/facts/index.js')) as typeof import('../src/resources/facts/index.js');
  const inv = await loadInventory(inventoryFile);
  const { jobs } = await buildJobs(inv, inv.select(undefined));
  return probeScript(planProbe(factRequests(jobs[0]!, false)), newNonce()).text;
}

export interface Profile {
  n: number;
  /** Medians over `repeats`, seconds. */
  nodeStartupS: number;
  validateS: number;
  floorS: number;
  localProbeS: number;
  checkS: number;
  checkCpuS: number;
  probeScriptBytes: number;
  /** Self time of one check by module, ms, largest first. */
  cpuByModule: { module: string; ms: number }[];
  /** Processes one host runs: its probe, and its first apply per changed step. */
  processes: HostProcesses;
  lines: string[];
}

/** Medians of 3; of 1 past N = 50, where one check takes minutes on a 2-core machine. */
function repeatsAt(n: number): number {
  return n > 50 ? 1 : 3;
}

async function med(repeats: number, f: () => Promise<{ wallMs: number; code: number | null; stderr: string }>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const m = await f();
    if (m.code !== 0) throw new Error(`profile step failed (exit ${m.code}): ${m.stderr.slice(0, 500)}`);
    xs.push(m.wallMs / 1000);
  }
  return median(xs);
}

/** N parallel local `/bin/sh -s` with the probe on stdin: what the hosts run, minus SSH. */
function localProbes(script: string, n: number): Promise<{ wallMs: number; code: number | null; stderr: string }> {
  const started = process.hrtime.bigint();
  const one = () =>
    new Promise<number | null>((resolve, reject) => {
      const child = spawn('/bin/sh', ['-s'], { stdio: ['pipe', 'ignore', 'ignore'] });
      child.on('error', reject);
      child.on('close', resolve);
      child.stdin.end(script);
    });
  return Promise.all(Array.from({ length: n }, one)).then((codes) => ({
    wallMs: Number(process.hrtime.bigint() - started) / 1e6,
    code: codes.every((c) => c === 0) ? 0 : codes.find((c) => c !== 0) ?? null,
    stderr: '',
  }));
}

/**
 * The bundled CLI (dist/cli/provision.cjs) is one file: esbuild marks where each module's
 * code starts with a `// dist/...` or `// node_modules/...` comment line, so a line of the
 * bundle maps back to the module it came from.
 */
class BundleLines {
  private readonly starts: { line: number; module: string }[] = [];
  constructor(file: string) {
    readFileSync(file, 'utf8').split('\n').forEach((text, line) => {
      const m = /^\s*\/\/ ((?:dist|node_modules)\/\S+\.[cm]?js)$/.exec(text);
      if (m) this.starts.push({ line, module: m[1]! });
    });
  }
  /** The module whose code holds 0-based `line`, or undefined before the first one. */
  moduleAt(line: number): string | undefined {
    let lo = 0;
    let hi = this.starts.length - 1;
    let found: string | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]!.line <= line) (found = this.starts[mid]!.module), (lo = mid + 1);
      else hi = mid - 1;
    }
    return found;
  }
}

function moduleOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  // Packages first: they have dist/ folders of their own (yaml's dist/parse/).
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const own = /\/(?:dist|src)\/(\w+)\//.exec(url);
  if (own) return `provision ${own[1]}/`;
  if (url.startsWith('node:internal/modules') || url.includes('internal/modules/')) return 'node: module loading';
  if (url.startsWith('node:')) return `node: ${url.slice(5).split('/').slice(0, 2).join('/')}`;
  return url;
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

export function cpuByModule(file: string): { module: string; ms: number }[] {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const bundles = new Map<string, BundleLines>();
  const where = ({ url, functionName, lineNumber }: CpuProfile['nodes'][number]['callFrame']): string => {
    if (!url.endsWith('/provision.cjs')) return moduleOf(url, functionName);
    const path = fileURLToPath(url.startsWith('file:') ? url : pathToFileURL(url));
    if (!bundles.has(path)) bundles.set(path, new BundleLines(path));
    const module = bundles.get(path)!.moduleAt(lineNumber);
    return module ? moduleOf(`/${module}`, functionName) : 'provision: bundle start-up';
  };
  const byId = new Map(prof.nodes.map((n) => [n.id, where(n.callFrame)]));
  const totals = new Map<string, number>();
  prof.samples.forEach((id, i) => {
    const m = byId.get(id) ?? '?';
    totals.set(m, (totals.get(m) ?? 0) + (prof.timeDeltas[i] ?? 0) / 1000);
  });
  return [...totals].map(([module, ms]) => ({ module, ms: Math.round(ms) })).sort((a, b) => b.ms - a.ms);
}

export async function profileProvision(fx: Fixture, ssh: SshEndpoint, work: string): Promise<Profile> {
  const n = fx.hosts.length;
  const env = cleanEnv();
  const repeats = repeatsAt(n);
  const nodeStartupS = await med(3, () => measure(process.execPath, ['-e', '0'], { env, sampleMs: 0 }));
  const validateS = await med(repeats, () => measure(process.execPath, [CLI, 'validate', fx.provisionInventory], { env, sampleMs: 0 }));
  const floorS = await med(repeats, () => runFloor(n, ssh, 0));

  const script = await probeOf(fx.provisionInventory);
  const localProbeS = await med(repeats, () => localProbes(script, n));

  const check = () => measure(process.execPath, [CLI, 'check', fx.provisionInventory, '--forks', String(n)], { env, sampleMs: 0 });
  const checks = [];
  for (let i = 0; i < repeats; i++) checks.push(await check());
  if (checks.some((c) => c.code !== 0)) throw new Error(`profile: check failed: ${checks.find((c) => c.code !== 0)!.stdout.slice(-500)}`);
  const checkS = median(checks.map((c) => c.wallMs / 1000));
  const checkCpuS = median(checks.map((c) => c.cpuS));

  const profDir = path.join(work, 'cpuprofile');
  mkdirSync(profDir, { recursive: true });
  const prof = await measure(process.execPath, ['--cpu-prof', '--cpu-prof-dir', profDir, CLI, 'check', fx.provisionInventory, '--forks', String(n)], { env, sampleMs: 0 });
  if (prof.code !== 0) throw new Error(`profile: profiled check failed: ${prof.stderr.slice(0, 500)}`);
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  const modules = file ? cpuByModule(path.join(profDir, file)) : [];
  const processes = await hostProcesses(fx.provisionInventory);

  const s = (x: number) => `${x.toFixed(3)} s`;
  const lines = [
    `where provision check of ${n} hosts spends its time (${repeats === 1 ? 'one run each' : `medians of ${repeats}`}):`,
    `  node startup (node -e 0)                     ${s(nodeStartupS)}`,
    `  startup + load + expand ${String(n).padStart(3)} hosts (validate) ${s(validateS)}`,
    `  SSH floor: ${String(n).padStart(3)} parallel ssh HOST true        ${s(floorS)}`,
    `  remote processes: ${String(n).padStart(3)} local sh probe runs     ${s(localProbeS)} (script ${script.length} bytes)`,
    `  provision check, whole                       ${s(checkS)} (controller CPU ${checkCpuS.toFixed(2)} s)`,
    `  controller CPU by module (one profiled check, self time; (idle) = waiting on the network):`,
    ...modules.slice(0, 12).map((m) => `    ${m.module.padEnd(36)} ${String(m.ms).padStart(6)} ms`),
    ...processes.lines,
  ];
  return { n, nodeStartupS, validateS, floorS, localProbeS, checkS, checkCpuS, probeScriptBytes: script.length, cpuByModule: modules.slice(0, 25), processes, lines };
}
