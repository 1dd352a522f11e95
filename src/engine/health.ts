/**
 * Health gates, rendered for one host (the CLI renders the inventory's templates), and
 * what running them found. A gate passes on its first passing attempt; it is retried
 * `retries` times, `intervalS` apart, and fails once `deadlineS` has passed since its
 * first attempt, whatever is left of its retries.
 */
export type GateFrom = 'controller' | 'host';

export type GateCheck =
  | { kind: 'http'; url: string; status: number; body?: string; timeoutS: number }
  | { kind: 'tcp'; address: string; port: number; timeoutS: number }
  | { kind: 'command'; command: string };

export interface Gate {
  name: string;
  from: GateFrom;
  check: GateCheck;
  retries: number;
  intervalS: number;
  deadlineS: number;
}

export interface GateResult {
  name: string;
  from: GateFrom;
  passed: boolean;
  attempts: number;
  durationMs: number;
  /** Why the last attempt failed (or what the passing one saw), one short text. */
  detail: string;
}

export const GATE_DEFAULTS = { retries: 5, intervalS: 2, deadlineS: 60, timeoutS: 5, status: 200 } as const;

/** A gate's display name: its `name`, else what it checks. */
export function gateLabel(check: GateCheck): string {
  if (check.kind === 'http') return `http ${check.url}`;
  if (check.kind === 'tcp') return `tcp ${check.address}:${check.port}`;
  return `command ${check.command.split('\n')[0]!.slice(0, 60)}`;
}

export function gatesPassed(results: readonly GateResult[]): boolean {
  return results.every((r) => r.passed);
}

/** One line per gate: `passed http http://10.0.0.1/ (1 attempt, 0.2 s)`. */
export function gateLine(r: GateResult): string {
  const n = `${r.attempts} attempt${r.attempts === 1 ? '' : 's'}`;
  const base = `health ${r.name}: ${r.passed ? 'passed' : 'FAILED'} (${r.from}, ${n}, ${(r.durationMs / 1000).toFixed(1)} s)`;
  return r.passed || !r.detail ? base : `${base}: ${r.detail}`;
}
