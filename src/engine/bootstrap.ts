/**
 * `provision bootstrap`: first contact with a fresh machine, as ordinary engine runs.
 *
 * Per host:
 *   1. Connect as the provisioning user with its key. A host that accepts it was
 *      bootstrapped before (its password login may be off by now): carry on over that
 *      connection. A host that refuses it gets the initial credentials (password or initial
 *      key) instead. A host key problem or an unreachable host stops here: never fall back.
 *   2. Base steps (packages, user, ~/.ssh, authorized_keys, sudoers) through `runHost`:
 *      one probe, one apply, nothing to do on a second run.
 *   3. The proof, in a SECOND connection: log in as the provisioning user with its key and
 *      run `sudo -n true`. If it fails, sshd is left exactly as it was, and the result
 *      says why.
 *   4. Only then the sshd hardening (validated drop-in, reload handler), through `runHost`
 *      over the proven connection itself.
 * Never throws: every failure is a HostResult, so one host never stops the others.
 */
import { ProvisionError } from '../config/errors.js';
import { sh, type Sh } from '../resources/sh.js';
import type { Connection } from '../transport/connection.js';
import { baseSteps, hardenSteps, type BootstrapSpec } from './bootstrap-steps.js';
import { runHost } from './host-run.js';
import { mapPool } from './pool.js';
import type { HandlerOutcome, HostJob, HostResult, Reporter, StepOutcome } from './types.js';

export interface BootstrapJob {
  name: string;
  spec: BootstrapSpec;
  lockFile: string;
  /** For messages: `root (password)`, `debian (key ~/.ssh/cloud)`. */
  initialLabel: string;
  /** The initial user is not root: root work goes through `sudo -n`. */
  initialSudo: boolean;
  /**
   * As the provisioning user with its key. Resolves null when the host refused those
   * credentials (or none are available); rejects for anything else (host key, network).
   */
  connectAsUser(): Promise<Connection | null>;
  /** With the initial credentials. */
  connectInitial(): Promise<Connection>;
}

export interface BootstrapOptions {
  forks: number;
  signal?: AbortSignal;
  holder: string;
  /** One informative line about a host (how it was reached, the proof...). */
  note(host: string, text: string): void;
}

function message(e: unknown): string {
  return e instanceof ProvisionError ? e.shortMessage : (e as Error).message;
}

function firstLine(text: string): string {
  return text.trim().split('\n').find((l) => l.trim()) ?? '';
}

/** The proof script: the right user, and sudo without a password (unless it is root). */
export function proofScript(user: string): Sh {
  const check = sh`u=$(id -un) || exit 1; [ "$u" = ${user} ] || { echo "logged in as $u, not "${user} >&2; exit 1; }`;
  return user === 'root' ? sh`${check}\n` : sh`${check}\nsudo -n true\n`;
}

/** What a host's bootstrap has done so far, across its phases (two runHost calls and the proof). */
class Tally {
  readonly steps: StepOutcome[] = [];
  readonly handlers: HandlerOutcome[] = [];
  execs = 0;
  changed = false;
  private readonly started = Date.now();

  constructor(private readonly job: BootstrapJob, private readonly opts: BootstrapOptions) {}

  done(status: HostResult['status'], error?: string): HostResult {
    const { steps, handlers, execs } = this;
    return { host: this.job.name, status, steps, handlers, durationMs: Date.now() - this.started, execs, ...(error !== undefined ? { error } : {}) };
  }

  finish(): HostResult {
    if (!this.changed) this.opts.note(this.job.name, 'nothing to do: already bootstrapped');
    return this.done(this.changed ? 'changed' : 'ok');
  }

  /** A runHost result's steps, handlers and execs become the bootstrap's. */
  absorb(r: HostResult): void {
    this.steps.push(...r.steps);
    this.handlers.push(...r.handlers);
    this.execs += r.execs;
    if (r.status === 'changed') this.changed = true;
  }
}

/** Phases: first contact, base steps (runHost), the login proof, the sshd hardening (runHost). */
export async function bootstrapHost(job: BootstrapJob, opts: BootstrapOptions, reporter: Reporter): Promise<HostResult> {
  const tally = new Tally(job, opts);
  const user = job.spec.user;
  const runOpts = { mode: 'apply' as const, withContent: false, forks: 1, holder: opts.holder, ...(opts.signal ? { signal: opts.signal } : {}) };
  let first: { conn: Connection; asUser: boolean };
  try {
    first = await firstContact(job, opts, tally);
  } catch (e) {
    reporter.hostStart(job.name);
    return tally.done('unreachable', `${message(e)}; nothing was changed`);
  }

  // 2. Base steps.
  const base = baseSteps(job.spec);
  const baseJob: HostJob = {
    name: job.name,
    steps: base,
    handlers: new Map(),
    validateSets: new Map(),
    sudo: first.asUser ? user !== 'root' : job.initialSudo,
    lockFile: job.lockFile,
    connect: async () => first.conn,
  };
  const a = await runHost(baseJob, runOpts, reporter);
  tally.absorb(a);
  if (a.status === 'failed' || a.status === 'unreachable') return tally.done('failed', `${a.error ?? 'bootstrap failed'}; sshd was not changed`);
  if (opts.signal?.aborted) return tally.done('failed', 'interrupted before the login proof; sshd was not changed');

  const proofIndex = base.length;
  const proven = await proveLogin(job, opts, reporter, tally, proofIndex);
  if (!('exec' in proven)) return proven;
  let handedOver = false;
  try {
    if (!job.spec.hardenSsh) return tally.finish();
    if (opts.signal?.aborted) return tally.done('failed', 'interrupted before the sshd hardening; sshd was not changed');

    // 4. Harden sshd over the proven connection.
    const harden = hardenSteps(proofIndex + 1);
    handedOver = true;
    const c = await runHost(
      { name: job.name, steps: harden.steps, handlers: harden.handlers, validateSets: new Map(), sudo: user !== 'root', lockFile: job.lockFile, connect: async () => proven },
      runOpts,
      reporter,
    );
    tally.absorb(c);
    if (c.status === 'failed' || c.status === 'unreachable') return tally.done('failed', `sshd hardening: ${c.error ?? 'failed'}`);
    return tally.finish();
  } finally {
    if (!handedOver) await proven.close().catch(() => {});
  }
}

/**
 * 1. First contact: as the provisioning user when it already logs in with its key AND
 * can use sudo (bootstrapped before), otherwise with the initial credentials. Throws on
 * anything but the host refusing the user's key (host key, network): never fall back.
 */
async function firstContact(job: BootstrapJob, opts: BootstrapOptions, tally: Tally): Promise<{ conn: Connection; asUser: boolean }> {
  const user = job.spec.user;
  const c = await job.connectAsUser();
  if (c) {
    // Bootstrapped before, or half-way (sudo not granted yet): only a user that can
    // also use sudo can carry on; otherwise the initial credentials are needed again.
    tally.execs++;
    const check = await c.exec(proofScript(user).text, opts.signal ? { signal: opts.signal } : {});
    if (check.exitCode === 0) {
      opts.note(job.name, `${user} already logs in with its key: checking the bootstrap`);
      return { conn: c, asUser: true };
    }
    opts.note(job.name, `${user} logs in with its key but cannot use sudo -n yet (${firstLine(check.stderr) || `exit ${check.exitCode}`}): using the initial credentials`);
    await c.close().catch(() => {});
  }
  const conn = await job.connectInitial();
  opts.note(job.name, `connected as ${job.initialLabel}`);
  return { conn, asUser: false };
}

/**
 * 3. The proof, in a second connection: the user logs in with its key and runs
 * `sudo -n true`. Returns that connection (the hardening runs over it), or the failed result.
 */
async function proveLogin(job: BootstrapJob, opts: BootstrapOptions, reporter: Reporter, tally: Tally, proofIndex: number): Promise<Connection | HostResult> {
  const user = job.spec.user;
  const proofName = user === 'root' ? 'proof: root logs in with its key' : `proof: ${user} logs in with its key, sudo -n true`;
  const proofFailed = (why: string): HostResult => {
    const o: StepOutcome = { index: proofIndex, name: proofName, status: 'failed', error: why };
    tally.steps.push(o);
    reporter.stepDone(job.name, o);
    return tally.done('failed', `${why}; sshd was left unchanged`);
  };
  let second: Connection | null;
  try {
    second = await job.connectAsUser();
  } catch (e) {
    return proofFailed(`second connection as ${user} failed: ${message(e)}`);
  }
  if (!second) return proofFailed(`${user} cannot log in with its key (the host refused it)`);
  tally.execs++;
  const proof = await second.exec(proofScript(user).text, opts.signal ? { signal: opts.signal } : {}).catch(async (e: unknown) => {
    await second.close().catch(() => {});
    throw e;
  });
  if (proof.exitCode !== 0) {
    const why = firstLine(proof.stderr) || `exit ${proof.exitCode ?? proof.signal ?? 'unknown'}`;
    const failed = proofFailed(user === 'root' ? `login check as root failed: ${why}` : `\`sudo -n true\` as ${user} failed: ${why}`);
    await second.close().catch(() => {});
    return failed;
  }
  const ok: StepOutcome = { index: proofIndex, name: proofName, status: 'ok' };
  tally.steps.push(ok);
  reporter.stepDone(job.name, ok);
  opts.note(job.name, user === 'root' ? 'proof: root logged in with its key' : `proof: ${user} logged in with its key and ran sudo -n true`);
  return second;
}

/** Every host, in parallel up to `forks`; results in job order. */
export async function bootstrapAll(jobs: BootstrapJob[], opts: BootstrapOptions, reporter: Reporter): Promise<HostResult[]> {
  const results = await mapPool(jobs, opts.forks, async (job) => {
    const r = await bootstrapHost(job, opts, reporter);
    reporter.hostDone(r);
    return r;
  });
  await reporter.runDone(results, 'apply');
  return results;
}
