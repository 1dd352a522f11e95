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

export async function bootstrapHost(job: BootstrapJob, opts: BootstrapOptions, reporter: Reporter): Promise<HostResult> {
  const started = Date.now();
  const user = job.spec.user;
  const steps: StepOutcome[] = [];
  const handlers: HandlerOutcome[] = [];
  let execs = 0;
  let changed = false;
  const done = (status: HostResult['status'], error?: string): HostResult => ({
    host: job.name,
    status,
    steps,
    handlers,
    durationMs: Date.now() - started,
    execs,
    ...(error !== undefined ? { error } : {}),
  });
  const finish = (): HostResult => {
    if (!changed) opts.note(job.name, 'nothing to do: already bootstrapped');
    return done(changed ? 'changed' : 'ok');
  };
  const absorb = (r: HostResult) => {
    steps.push(...r.steps);
    handlers.push(...r.handlers);
    execs += r.execs;
    if (r.status === 'changed') changed = true;
  };
  const runOpts = { mode: 'apply' as const, withContent: false, forks: 1, holder: opts.holder, ...(opts.signal ? { signal: opts.signal } : {}) };

  // 1. First contact.
  let first: Connection;
  let asUser: boolean;
  try {
    let c = await job.connectAsUser();
    if (c) {
      // Bootstrapped before, or half-way (sudo not granted yet): only a user that can
      // also use sudo can carry on; otherwise the initial credentials are needed again.
      execs++;
      const check = await c.exec(proofScript(user).text, opts.signal ? { signal: opts.signal } : {});
      if (check.exitCode === 0) opts.note(job.name, `${user} already logs in with its key: checking the bootstrap`);
      else {
        opts.note(job.name, `${user} logs in with its key but cannot use sudo -n yet (${firstLine(check.stderr) || `exit ${check.exitCode}`}): using the initial credentials`);
        await c.close().catch(() => {});
        c = null;
      }
    }
    asUser = c !== null;
    if (c) first = c;
    else {
      first = await job.connectInitial();
      opts.note(job.name, `connected as ${job.initialLabel}`);
    }
  } catch (e) {
    reporter.hostStart(job.name);
    return done('unreachable', `${message(e)}; nothing was changed`);
  }

  // 2. Base steps.
  const base = baseSteps(job.spec);
  const baseJob: HostJob = {
    name: job.name,
    steps: base,
    handlers: new Map(),
    validateSets: new Map(),
    sudo: asUser ? user !== 'root' : job.initialSudo,
    lockFile: job.lockFile,
    connect: async () => first,
  };
  const a = await runHost(baseJob, runOpts, reporter);
  absorb(a);
  if (a.status === 'failed' || a.status === 'unreachable') return done('failed', `${a.error ?? 'bootstrap failed'}; sshd was not changed`);
  if (opts.signal?.aborted) return done('failed', 'interrupted before the login proof; sshd was not changed');

  // 3. The proof, in a second connection.
  const proofIndex = base.length;
  const proofName = user === 'root' ? 'proof: root logs in with its key' : `proof: ${user} logs in with its key, sudo -n true`;
  const proofFailed = (why: string): HostResult => {
    const o: StepOutcome = { index: proofIndex, name: proofName, status: 'failed', error: why };
    steps.push(o);
    reporter.stepDone(job.name, o);
    return done('failed', `${why}; sshd was left unchanged`);
  };
  let second: Connection | null;
  try {
    second = await job.connectAsUser();
  } catch (e) {
    return proofFailed(`second connection as ${user} failed: ${message(e)}`);
  }
  if (!second) return proofFailed(`${user} cannot log in with its key (the host refused it)`);
  let handedOver = false;
  try {
    execs++;
    const proof = await second.exec(proofScript(user).text, opts.signal ? { signal: opts.signal } : {});
    if (proof.exitCode !== 0) {
      const why = firstLine(proof.stderr) || `exit ${proof.exitCode ?? proof.signal ?? 'unknown'}`;
      return proofFailed(user === 'root' ? `login check as root failed: ${why}` : `\`sudo -n true\` as ${user} failed: ${why}`);
    }
    const ok: StepOutcome = { index: proofIndex, name: proofName, status: 'ok' };
    steps.push(ok);
    reporter.stepDone(job.name, ok);
    opts.note(job.name, user === 'root' ? 'proof: root logged in with its key' : `proof: ${user} logged in with its key and ran sudo -n true`);

    if (!job.spec.hardenSsh) return finish();
    if (opts.signal?.aborted) return done('failed', 'interrupted before the sshd hardening; sshd was not changed');

    // 4. Harden sshd over the proven connection.
    const harden = hardenSteps(proofIndex + 1);
    const conn = second;
    handedOver = true;
    const c = await runHost(
      { name: job.name, steps: harden.steps, handlers: harden.handlers, validateSets: new Map(), sudo: user !== 'root', lockFile: job.lockFile, connect: async () => conn },
      runOpts,
      reporter,
    );
    absorb(c);
    if (c.status === 'failed' || c.status === 'unreachable') return done('failed', `sshd hardening: ${c.error ?? 'failed'}`);
    return finish();
  } finally {
    if (!handedOver) await second.close().catch(() => {});
  }
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
