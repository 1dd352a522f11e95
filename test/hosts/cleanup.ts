/**
 * Tearing a run down, found from its run id alone: nspawn processes (by command line),
 * processes inside its namespaces, mounts under its run dir, its netns, veths and bridge.
 * The same routine serves a normal teardown and the removal of a killed run's leftovers,
 * so a run that died without cleaning up never breaks the next one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pidAlive, run, sleep } from './exec.js';
import {
  MARKER_DIR,
  RUN_ROOT,
  bridgeNameOf,
  markerPathOf,
  netnsPrefixOf,
  octetClaimPath,
  runDirOf,
  vethPrefixOf,
} from './names.js';

/** What a run writes to its marker file; pids are hints, discovery below does not need them. */
export interface RunMarker {
  runId: string;
  pid: number;
  octet: number;
  startedAt: string;
}

const NSPAWN_STOP_MS = 20_000;

/** Alive and not a zombie (an exited child nobody reaped yet still answers kill(pid, 0)). */
export function processRunning(pid: number): boolean {
  if (!pidAlive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((p) => p !== process.pid);
}

/** systemd-nspawn processes of this run, recognised by their netns path argument. */
export function nspawnPidsOf(runId: string): number[] {
  const needle = `--network-namespace-path=/run/netns/${netnsPrefixOf(runId)}`;
  return allPids().filter((pid) => {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return argv.some((a) => a.endsWith('systemd-nspawn')) && argv.some((a) => a.startsWith(needle));
    } catch {
      return false;
    }
  });
}

/** Processes whose root directory is inside the run dir (containers whose nspawn died). */
function pidsRootedUnder(dir: string): number[] {
  return allPids().filter((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/root`).startsWith(`${dir}/`);
    } catch {
      return false;
    }
  });
}

export function netnsOf(runId: string): string[] {
  if (!existsSync('/run/netns')) return [];
  return readdirSync('/run/netns').filter((n) => n.startsWith(netnsPrefixOf(runId)));
}

function netnsPids(ns: string): number[] {
  const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
  return (r.stdout ?? '').split(/\s+/).filter(Boolean).map(Number);
}

/** This run's veths first, then its bridge. */
export function linksOf(runId: string): string[] {
  const names = readdirSync('/sys/class/net');
  const veths = names.filter((n) => n.startsWith(vethPrefixOf(runId)));
  return names.includes(bridgeNameOf(runId)) ? [...veths, bridgeNameOf(runId)] : veths;
}

/** Mount points under `dir`, deepest first; mountinfo escapes spaces as \040. */
export function mountsUnder(dir: string): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

async function signalAndWait(pids: number[], timeoutMs: number): Promise<number[]> {
  for (const pid of pids) killQuietly(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(processRunning);
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(200);
    alive = alive.filter(processRunning);
  }
  return alive;
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** A container that did not power off in time: its console says what systemd waited for. */
function reportStubborn(runId: string, pids: number[]): void {
  const hostsDir = join(runDirOf(runId), 'hosts');
  const tails = (existsSync(hostsDir) ? readdirSync(hostsDir) : []).map((name) => {
    let log = '(no console log)';
    try {
      log = readFileSync(join(hostsDir, name, 'nspawn.log'), 'utf8').split('\n').slice(-25).join('\n');
    } catch {
      // not booted yet
    }
    return `--- ${name} console (last 25 lines):\n${log}`;
  });
  process.stderr.write(`[lab] ${runId}: nspawn ${pids.join(', ')} did not power off in ${NSPAWN_STOP_MS / 1000} s; killing it\n${tails.join('\n')}\n`);
}

async function killEverything(runId: string, knownPids: number[]): Promise<void> {
  // Containers power off on SIGTERM to nspawn; give them the time a clean shutdown takes.
  const nspawn = [...new Set([...knownPids, ...nspawnPidsOf(runId)])].filter(processRunning);
  const stubborn = await signalAndWait(nspawn, NSPAWN_STOP_MS);
  if (stubborn.length > 0) reportStubborn(runId, stubborn);
  for (const pid of stubborn) killQuietly(pid, 'SIGKILL');
  // Backends and anything a container left behind: in the namespaces or rooted in overlays.
  const rest = [...netnsOf(runId).flatMap(netnsPids), ...pidsRootedUnder(runDirOf(runId))].filter(processRunning);
  const left = await signalAndWait([...new Set(rest)], 3_000);
  for (const pid of left) killQuietly(pid, 'SIGKILL');
  const deadline = Date.now() + 5_000;
  while ([...stubborn, ...left].some(processRunning) && Date.now() < deadline) await sleep(100);
}

export async function unmountAll(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const points = mountsUnder(dir);
    if (points.length === 0) return;
    for (const p of points) await run('umount', [p], { allowFail: true });
    await sleep(200 * attempt);
  }
  // Still busy: detach lazily so the run dir can go; the kernel frees it when unused.
  for (const p of mountsUnder(dir)) await run('umount', ['-l', p], { allowFail: true });
}

/**
 * `rm -rf` that never walks into a mount: processes still using the tree (by command line
 * or root) are killed and everything mounted under it is unmounted first. A build killed
 * mid-way can leave /proc or /dev bound inside an image directory.
 */
export async function removeTreeSafely(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  const users = allPids().filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(dir);
    } catch {
      return false;
    }
  });
  for (const pid of [...users, ...pidsRootedUnder(dir)]) killQuietly(pid, 'SIGKILL');
  await unmountAll(dir);
  if (mountsUnder(dir).length > 0) throw new Error(`cannot remove ${dir}: still mounted under it`);
  await rm(dir, { recursive: true, force: true });
}

/** Removes everything run `runId` created. Idempotent; safe on a partly built run. */
export async function destroyRun(runId: string, knownPids: number[] = []): Promise<void> {
  await killEverything(runId, knownPids);
  const dir = runDirOf(runId);
  await unmountAll(dir);
  for (const ns of netnsOf(runId)) await run('ip', ['netns', 'del', ns], { allowFail: true });
  for (const link of linksOf(runId)) await run('ip', ['link', 'del', link], { allowFail: true });
  await removeTreeSafely(dir);
  await releaseRunMarker(runId);
}

/**
 * Best effort for process 'exit', where nothing asynchronous runs: SIGKILL instead of a
 * clean poweroff, lazy unmounts. Whatever remains is found by `cleanupStaleLabs` later.
 */
export function destroyRunSync(runId: string, knownPids: number[] = []): void {
  const dir = runDirOf(runId);
  const victims = [...knownPids, ...nspawnPidsOf(runId), ...netnsOf(runId).flatMap(netnsPids), ...pidsRootedUnder(dir)];
  for (const pid of new Set(victims)) killQuietly(pid, 'SIGKILL');
  for (const p of mountsUnder(dir)) spawnSync('umount', ['-l', p]);
  for (const ns of netnsOf(runId)) spawnSync('ip', ['netns', 'del', ns]);
  for (const link of linksOf(runId)) spawnSync('ip', ['link', 'del', link]);
  if (mountsUnder(dir).length === 0) rmSync(dir, { recursive: true, force: true });
  releaseRunMarkerSync(runId);
}

async function readMarker(path: string): Promise<RunMarker | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as RunMarker;
  } catch {
    return undefined;
  }
}

async function releaseRunMarker(runId: string): Promise<void> {
  const marker = await readMarker(markerPathOf(runId));
  if (marker) {
    const claim = octetClaimPath(marker.octet);
    if ((await readFile(claim, 'utf8').catch(() => '')).trim() === runId) await rm(claim, { force: true });
  }
  await rm(markerPathOf(runId), { force: true });
}

function releaseRunMarkerSync(runId: string): void {
  try {
    const marker = JSON.parse(readFileSync(markerPathOf(runId), 'utf8')) as RunMarker;
    const claim = octetClaimPath(marker.octet);
    if (readFileSync(claim, 'utf8').trim() === runId) rmSync(claim, { force: true });
  } catch {
    // no marker or no claim: nothing to release
  }
  rmSync(markerPathOf(runId), { force: true });
}

/**
 * Removes the leftovers of runs whose owning process is dead: their marker says which pid
 * owned them. Run dirs without any marker (a reboot cleared /run) go too.
 * Returns the run ids it cleaned.
 */
export async function cleanupStaleLabs(log?: (line: string) => void): Promise<string[]> {
  const cleaned: string[] = [];
  const live = new Set<string>();
  const markers = existsSync(MARKER_DIR) ? await readdir(MARKER_DIR) : [];
  for (const file of markers.filter((f) => f.endsWith('.json'))) {
    const marker = await readMarker(join(MARKER_DIR, file));
    const runId = file.slice(0, -'.json'.length);
    // A marker still being written reads as undefined: leave it for the next cleanup.
    if (!marker || pidAlive(marker.pid)) {
      live.add(runId);
      continue;
    }
    log?.(`removing leftovers of dead test run ${runId}`);
    await destroyRun(runId);
    cleaned.push(runId);
  }
  // Octet claims and run dirs whose run is gone. Re-read the owner's marker right before
  // acting: a run that started after the listing above is alive and must be left alone.
  const ownerAlive = async (runId: string): Promise<boolean> => {
    const m = await readMarker(markerPathOf(runId));
    return m !== undefined && pidAlive(m.pid);
  };
  const claims = existsSync(MARKER_DIR) ? (await readdir(MARKER_DIR)).filter((f) => f.startsWith('octet-')) : [];
  for (const file of claims) {
    const owner = (await readFile(join(MARKER_DIR, file), 'utf8').catch(() => '')).trim();
    if (!(await ownerAlive(owner))) await rm(join(MARKER_DIR, file), { force: true });
  }
  const dirs = existsSync(RUN_ROOT) ? await readdir(RUN_ROOT) : [];
  for (const runId of dirs.filter((d) => !live.has(d) && !cleaned.includes(d))) {
    if (await ownerAlive(runId)) continue;
    log?.(`removing orphaned test run dir ${runId}`);
    await destroyRun(runId);
    cleaned.push(runId);
  }
  return cleaned;
}
