/**
 * Real test hosts for end-to-end tests and the demo: Debian 12 containers with systemd,
 * sshd and an offline apt cache, each in its own network namespace on a per-run bridge
 * that the controller (this machine) sits on. See /work/shared/TEST-HOSTS.md.
 *
 *   const lab = await startLab({ hosts: ['lb-1', 'lb-2'] });
 *   try { await lab.ssh(lab.hosts[0]!, 'systemctl is-system-running'); }
 *   finally { await lab.teardown(); }
 *
 * Requires root. Teardown also runs on SIGINT/SIGTERM and (best effort) on exit; a run
 * killed harder is cleaned by the next run's `cleanupStaleLabs()`.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProvisionError } from '../../src/config/errors.js';
import { startBackendServer, stopProcess, waitForBackend } from './backend.js';
import { cleanupStaleLabs, destroyRun, destroyRunSync, type RunMarker } from './cleanup.js';
import { containerPaths, mountOverlay, startNspawn, waitUntilBooted, writeHostIdentity } from './container.js';
import type { RunResult } from './exec.js';
import { buildBaseImage } from './image.js';
import {
  MARKER_DIR,
  assertValidName,
  backendNetnsOf,
  bridgeNameOf,
  hostNetnsOf,
  markerPathOf,
  newRunId,
  runDirOf,
} from './names.js';
import { SUBNET_BASE, claimSubnetOctet, createAttachedNamespace, createBridge, deleteAttachedNamespace } from './network.js';
import { ensureControllerPackages } from './packages.js';
import { generateKey, knownHostsText, readPublicKey, sshRun } from './ssh.js';

export { ensureControllerPackages } from './packages.js';
export { buildBaseImage, DEFAULT_IMAGE_PACKAGES, imageCacheRoot } from './image.js';
export { cleanupStaleLabs } from './cleanup.js';
export { BACKEND_PORT } from './backend.js';
export type { RunResult } from './exec.js';

export interface TestHost {
  name: string;
  /** e.g. 10.213.37.11 */
  address: string;
}

export interface LabSshOptions {
  stdin?: string;
  /** Resolve with the non-zero exit code instead of rejecting. */
  allowFail?: boolean;
}

export interface Lab {
  /** Unique per run; part of every name the lab creates. */
  runId: string;
  bridge: string;
  /** First three octets of the lab's /24, e.g. '10.213.37'. */
  subnetPrefix: string;
  hosts: TestHost[];
  /** Per-run ed25519 private key (0600) authorized for root on every host. */
  sshKeyPath: string;
  /** Plain `ADDR ssh-ed25519 AAAA...` lines with each host's real host key. */
  knownHostsPath: string;
  /** The bridge address (x.y.z.1): hosts reach controller-side servers there. */
  controllerAddress: string;
  /** Per-run directory (logs, keys, overlays); removed by teardown. */
  runDir: string;
  /** OpenSSH client, lab key and known_hosts, StrictHostKeyChecking=yes, BatchMode=yes. */
  ssh(host: TestHost, command: string, opts?: LabSshOptions): Promise<RunResult>;
  /** A node HTTP server on port 8080 in its own namespace answering `name\n`. */
  addBackend(name: string, address?: string): Promise<TestHost>;
  removeBackend(name: string): Promise<void>;
  /** Idempotent; the lab's netns, links, mounts and run dir are gone when it resolves. */
  teardown(): Promise<void>;
}

export interface StartLabOptions {
  hosts: string[];
  /** Extra packages the base image caches for offline apt installs. */
  packages?: string[];
  log?: (line: string) => void;
  /** Per host; default 90 s. */
  bootTimeoutMs?: number;
}

const HOST_FIRST = 11;
const BACKEND_FIRST = 21;

interface BackendEntry {
  host: TestHost;
  netns: string;
  veth: string;
  pid: number;
}

class LabImpl implements Lab {
  hosts: TestHost[] = [];
  readonly bridge: string;
  readonly controllerAddress: string;
  readonly runDir: string;
  readonly sshKeyPath: string;
  readonly knownHostsPath: string;
  private readonly nspawnPids: number[] = [];
  private readonly backends = new Map<string, BackendEntry>();
  private readonly usedSuffixes = new Set<number>([0, 1, 255]);
  private nextVeth = 0;
  private torndown: Promise<void> | undefined;
  private finished = false;

  constructor(
    readonly runId: string,
    readonly subnetPrefix: string,
    private readonly log: (line: string) => void,
  ) {
    this.bridge = bridgeNameOf(runId);
    this.controllerAddress = `${subnetPrefix}.1`;
    this.runDir = runDirOf(runId);
    this.sshKeyPath = join(this.runDir, 'id_ed25519');
    this.knownHostsPath = join(this.runDir, 'known_hosts');
  }

  get sshFiles() {
    return { keyPath: this.sshKeyPath, knownHostsPath: this.knownHostsPath };
  }

  get isTornDown(): boolean {
    return this.torndown !== undefined;
  }

  get knownPids(): number[] {
    return [...this.nspawnPids, ...[...this.backends.values()].map((b) => b.pid)];
  }

  allocateAddress(first: number): string {
    for (let suffix = first; suffix < 255; suffix++) {
      if (!this.usedSuffixes.has(suffix)) {
        this.usedSuffixes.add(suffix);
        return `${this.subnetPrefix}.${suffix}`;
      }
    }
    throw new Error(`lab ${this.runId}: no free address in ${this.subnetPrefix}.0/24`);
  }

  /** Accepts a full address in the lab subnet or just its last octet. */
  claimAddress(address: string): string {
    const suffix = Number(address.includes('.') ? address.slice(this.subnetPrefix.length + 1) : address);
    const full = `${this.subnetPrefix}.${suffix}`;
    if ((address.includes('.') && !address.startsWith(`${this.subnetPrefix}.`)) || !Number.isInteger(suffix)) {
      throw new Error(`address ${address} is not in the lab subnet ${this.subnetPrefix}.0/24`);
    }
    if (this.usedSuffixes.has(suffix) || suffix < 2 || suffix > 254) throw new Error(`address ${full} is not free`);
    this.usedSuffixes.add(suffix);
    return full;
  }

  vethIndex(): number {
    return this.nextVeth++;
  }

  async boot(baseDir: string, names: string[], bootTimeoutMs: number): Promise<void> {
    const hosts = names.map((name) => ({ name, address: this.allocateAddress(HOST_FIRST) }));
    const authorizedKey = await readPublicKey(`${this.sshKeyPath}.pub`);
    const started = Date.now();
    // Identity and network first (cheap), then every nspawn at once, then wait in parallel.
    const prepared = await settleAll(
      hosts.map(async (host) => {
        const paths = containerPaths(this.runDir, host.name);
        const hostKey = await writeHostIdentity(paths, { name: host.name, peers: hosts, authorizedKey });
        await mountOverlay(baseDir, paths);
        const netns = hostNetnsOf(this.runId, host.name);
        await createAttachedNamespace(this.runId, netns, this.vethIndex(), host.address);
        return { host, paths, netns, hostKey };
      }),
    );
    await writeFile(
      this.knownHostsPath,
      knownHostsText(prepared.map((p) => ({ address: p.host.address, publicKey: p.hostKey }))),
      { mode: 0o600 },
    );
    this.hosts = hosts;
    await settleAll(
      prepared.map(async ({ host, paths, netns }) => {
        const pid = await startNspawn(host.name, `${this.runId}-${host.name}`, paths, netns);
        this.nspawnPids.push(pid);
        await waitUntilBooted(this.sshFiles, host.name, host.address, pid, paths.log, bootTimeoutMs);
        this.log(`host ${host.name} (${host.address}) booted in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      }),
    );
  }

  ssh(host: TestHost, command: string, opts: LabSshOptions = {}): Promise<RunResult> {
    return sshRun(this.sshFiles, host.address, command, opts);
  }

  async addBackend(name: string, address?: string): Promise<TestHost> {
    assertValidName(name);
    if (this.backends.has(name)) throw new Error(`lab ${this.runId}: backend ${name} already exists`);
    const host = { name, address: address ? this.claimAddress(address) : this.allocateAddress(BACKEND_FIRST) };
    const netns = backendNetnsOf(this.runId, name);
    const veth = await createAttachedNamespace(this.runId, netns, this.vethIndex(), host.address);
    const pid = await startBackendServer(name, netns, join(this.runDir, `backend-${name}.log`));
    this.backends.set(name, { host, netns, veth, pid });
    await waitForBackend(name, host.address, pid);
    this.log(`backend ${name} answering on ${host.address}:8080`);
    return host;
  }

  async removeBackend(name: string): Promise<void> {
    const entry = this.backends.get(name);
    if (!entry) throw new Error(`lab ${this.runId}: no backend ${name}`);
    await stopProcess(entry.pid);
    await deleteAttachedNamespace(entry.netns, entry.veth);
    this.backends.delete(name);
    this.usedSuffixes.delete(Number(entry.host.address.split('.').pop()));
  }

  teardown(): Promise<void> {
    this.torndown ??= (async () => {
      const started = Date.now();
      try {
        await destroyRun(this.runId, this.knownPids);
        this.finished = true;
      } finally {
        liveLabs.delete(this);
      }
      this.log(`lab ${this.runId} torn down in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    })();
    return this.torndown;
  }

  teardownSync(): void {
    if (this.finished) return;
    destroyRunSync(this.runId, this.knownPids);
    liveLabs.delete(this);
  }
}

/** Builds (or reuses) the base image, boots one container per name, in parallel. */
export async function startLab(opts: StartLabOptions): Promise<Lab> {
  const log = opts.log ?? (() => undefined);
  if (process.getuid?.() !== 0) {
    throw new ProvisionError('E_HARNESS', 'the test lab needs root (mounts, network namespaces, systemd-nspawn)');
  }
  if (opts.hosts.length === 0) throw new Error('startLab: no hosts');
  opts.hosts.forEach(assertValidName);
  if (new Set(opts.hosts).size !== opts.hosts.length) throw new Error('startLab: duplicate host names');

  ensureControllerPackages({ log });
  await cleanupStaleLabs(log);
  const baseDir = await buildBaseImage({ ...(opts.packages ? { packages: opts.packages } : {}), log });

  const runId = newRunId();
  // Marker before anything else exists, so a crash at any later point leaves findable leftovers.
  await writeMarker({ runId, pid: process.pid, octet: -1, startedAt: new Date().toISOString() });
  installSignalHandlers();
  let lab: LabImpl | undefined;
  try {
    const octet = await claimSubnetOctet(runId);
    await writeMarker({ runId, pid: process.pid, octet, startedAt: new Date().toISOString() });
    lab = new LabImpl(runId, `${SUBNET_BASE}.${octet}`, log);
    liveLabs.add(lab);
    await mkdir(lab.runDir, { recursive: true, mode: 0o700 });
    await generateKey(lab.sshKeyPath, `provision-test-${runId}`);
    await createBridge(runId, lab.subnetPrefix);
    log(`lab ${runId}: bridge ${lab.bridge} ${lab.subnetPrefix}.1/24, booting ${opts.hosts.join(', ')}`);
    await lab.boot(baseDir, opts.hosts, opts.bootTimeoutMs ?? 90_000);
    return lab;
  } catch (err) {
    if (lab) await lab.teardown().catch(() => undefined);
    else await destroyRun(runId).catch(() => undefined);
    throw err;
  }
}

/**
 * Like Promise.all, but waits for every task before rejecting: teardown must not race a
 * host that is still being mounted or started.
 */
async function settleAll<T>(tasks: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

async function writeMarker(marker: RunMarker): Promise<void> {
  await mkdir(MARKER_DIR, { recursive: true });
  const path = markerPathOf(marker.runId);
  // Atomic: a reader never sees half a marker.
  await writeFile(`${path}.tmp`, JSON.stringify(marker));
  await rename(`${path}.tmp`, path);
}

const liveLabs = new Set<LabImpl>();
let handlersInstalled = false;

/**
 * Ctrl-C or SIGTERM tears every live lab down, then lets the signal do what it would have
 * done (re-raised when nobody else listens). 'exit' gets the synchronous best effort.
 */
function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const onSignal = (signal: NodeJS.Signals): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    handlersInstalled = false;
    void Promise.allSettled([...liveLabs].map((lab) => lab.teardown())).then(() => {
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (!exitHandlerInstalled) {
    exitHandlerInstalled = true;
    process.on('exit', () => {
      for (const lab of [...liveLabs]) lab.teardownSync();
    });
  }
}
let exitHandlerInstalled = false;
