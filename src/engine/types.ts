/** What the engine consumes (resolved per-host work) and produces (results and events). */
import type { Change, ResourceType } from '../resources/types.js';
import type { Sh } from '../resources/sh.js';
import type { Connection } from '../transport/connection.js';
import type { GateResult } from './health.js';

export interface ResolvedStep {
  index: number;
  /** Display name: the step's `name`, or `kind id`. */
  name: string;
  kind: string;
  type: ResourceType;
  spec: unknown;
  notify: string[];
  /** The validation set a file-like step belongs to. */
  validateSet?: string | undefined;
  /** `file:line` of the step in its playbook, for messages. */
  where: string;
}

export interface ResolvedHandler {
  name: string;
  kind: string;
  type: ResourceType;
  spec: unknown;
}

export interface ValidateSet {
  name: string;
  command: string;
  /** placeholder -> absolute path (a file, or a directory whose members are in the set). */
  paths: Record<string, string>;
}

export interface HostJob {
  name: string;
  steps: ResolvedStep[];
  handlers: Map<string, ResolvedHandler>;
  validateSets: Map<string, ValidateSet>;
  sudo: boolean;
  lockFile: string;
  connect(): Promise<Connection>;
}

export type Mode = 'check' | 'apply';

export interface RunOptions {
  mode: Mode;
  /** Fetch old contents in the probe so changes carry text diffs. */
  withContent: boolean;
  forks: number;
  signal?: AbortSignal;
  /** `controller=... user=... pid=... started=...`, recorded in the lock file. */
  holder: string;
  /** `--break-lock`: stop a stale holder of a host's lock and take it over. */
  breakLock?: boolean;
  /** How long `--break-lock` lets a stale holder clean up after SIGTERM before SIGKILL (default 30 s). */
  breakLockGraceS?: number;
  /** Saved plans (plan-guard.ts): sees every probe; refuses a host whose facts changed. */
  planGuard?: PlanGuard;
}

export interface PlanGuard {
  /** After a host's probe: why this host must not be applied, or null. */
  onProbe(job: HostJob, stdout: string, nonce: string): string | null;
  /** sh lines the apply script runs under the lock before any step (exit 76 + `stale`). */
  inApply?(job: HostJob, nonce: string, probeStdout: string): Sh;
}

export type StepStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'pending';

export interface StepOutcome {
  index: number;
  name: string;
  status: StepStatus;
  change?: Change;
  /** Failure text: the step's own stderr/stdout (e.g. HAProxy's error). */
  error?: string;
  /** Status `ok`: why there was nothing to do ("in sync: /etc/x: file, mode 0644, ..."). */
  reason?: string;
}

export interface HandlerOutcome {
  name: string;
  status: 'ok' | 'changed' | 'failed';
  error?: string;
}

/**
 * `partial`: interrupted (Ctrl-C) after some steps ran and before others started; a
 * re-run converges. `interrupted`: interrupted before its apply began: nothing changed.
 */
export type HostStatus = 'in-sync' | 'drift' | 'ok' | 'changed' | 'failed' | 'unreachable' | 'partial' | 'interrupted' | RolloutStatus;

/**
 * Rolling applies (rollout.ts): `restored`: a handler or a health gate failed and what
 * the run replaced was put back, healthy again; `restore failed`: that did not work;
 * `not started`: the rollout stopped before this host's batch (nothing touched).
 */
export type RolloutStatus = 'restored' | 'restore failed' | 'not started';

export interface HostResult {
  host: string;
  status: HostStatus;
  steps: StepOutcome[];
  handlers: HandlerOutcome[];
  /** One line: why the host failed (or was interrupted). */
  error?: string;
  /** The long form of `error` (the underlying tool's message, stderr), for --verbose and --json. */
  detail?: string;
  /** Things the operator should know even on success (a stale lock that was broken). */
  notes?: string[];
  /** Handlers an earlier apply notified but never completed (check reports them as drift). */
  pendingHandlers?: string[];
  durationMs: number;
  /** Remote execs this host cost (the round-trip budget). */
  execs: number;
  /** Health gates run after this host's handlers (rolling applies, `provision health`). */
  gates?: GateResult[];
  /** The automatic restore, when one ran. */
  restore?: RestoreReport;
}

export interface RestoreReport {
  ok: boolean;
  /** Paths put back as they were, and paths this run had created and that were removed. */
  restored: string[];
  removed: string[];
  /** Paths that could not be put back (what is in place is this run's version). */
  failed: string[];
  handlers: HandlerOutcome[];
  gates: GateResult[];
  error?: string;
  durationMs: number;
}

export interface Reporter {
  hostStart(host: string): void;
  hostPhase(host: string, phase: 'connect' | 'probe' | 'apply'): void;
  /**
   * The diff result (check, or before apply); `pendingHandlers` are handlers an earlier
   * apply notified but never completed; `okReasons` says why each unchanged step is in sync.
   */
  hostPlan(host: string, changes: Change[], steps: ResolvedStep[], pendingHandlers?: string[], okReasons?: ReadonlyMap<number, string>): void;
  /** A step began on the host (live displays show what is running). */
  stepStart?(host: string, outcome: StepOutcome): void;
  stepDone(host: string, outcome: StepOutcome): void;
  handlerDone(host: string, outcome: HandlerOutcome): void;
  hostDone(result: HostResult): void;
  runDone(results: HostResult[], mode: Mode): void | Promise<void>;
  /** Rolling applies: a batch starts (1-based number, its hosts). */
  batchStart?(unit: string | null, batch: number, batches: number, hosts: string[]): void;
  /** A host's health gates ran (after its handlers, or alone with `provision health`). */
  gatesDone?(host: string, results: GateResult[]): void;
  /** A host's automatic restore ran. */
  restoreDone?(host: string, report: RestoreReport): void;
  /** The rollout stopped; the hosts not started are reported with hostDone. */
  rolloutStopped?(reason: string): void;
}
