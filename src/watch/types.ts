/** What the watcher knows about each host, as the page, the API and the metrics show it. */
import type { ChangeAction } from '../resources/types.js';

/** `pending`: not checked yet since the watcher started (its history may say more). */
export type WatchStatus = 'pending' | 'in-sync' | 'drift' | 'unreachable' | 'locked' | 'error';

export interface DriftedStep {
  index: number;
  name: string;
  /** `playbook.yaml:LINE` of the step. */
  where: string;
  id: string;
  action: ChangeAction;
  reason: string;
  /** Attribute lines and the unified content diff, as `check --diff` prints them (masked). */
  diff: string;
}

/** One check of one host. Every string in it is already redacted. */
export interface HostCheck {
  host: string;
  status: Exclude<WatchStatus, 'pending'>;
  /** ISO time the check started. */
  checkedAt: string;
  durationMs: number;
  /** Remote execs the check cost (1; 2 when a new drift's diffs were fetched). */
  execs: number;
  steps: DriftedStep[];
  pendingHandlers: string[];
  error?: string;
  /** Identity of a drift, to tell a new drift from the same one seen again. */
  fingerprint?: string;
}

/** One line of the history file (and one cell of a host's history strip). */
export interface HistoryEntry {
  /** ISO time. */
  t: string;
  host: string;
  /** A check's status, or `repaired` / `repair-failed` for a `--repair` apply. */
  status: Exclude<WatchStatus, 'pending'> | 'repaired' | 'repair-failed';
  ms: number;
  /** Drifted steps (checks) or changed steps (repairs). */
  steps: number;
  error?: string;
}

export interface HostView {
  host: string;
  status: WatchStatus;
  /** Whether the watcher holds an open SSH connection to it now. */
  connected: boolean;
  /** The latest check, when there was one since the watcher started. */
  last?: HostCheck;
  /** When the next connect is tried, for an unreachable host in backoff. */
  retryAt?: string;
  /** Newest last. */
  history: HistoryEntry[];
}
