/**
 * ssh2's connect failures, turned into the one line a user reads per host:
 *   cannot connect to lb-1 (10.0.0.11:22): connection refused
 * The ssh2 error stays as `cause` and its message as `detail` for verbose logs.
 */
import { ConnectionError } from '../config/errors.js';

interface Ssh2Error extends Error {
  level?: string;
  code?: string;
  description?: string;
}

const SOCKET_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
  EPIPE: 'connection closed by peer',
  ENOTFOUND: 'unknown host name',
  EAI_AGAIN: 'host name lookup failed (temporary)',
};

export interface ConnectFailureContext {
  /** `lb-1 (10.0.0.11:22)`, or `lb-1 (10.0.0.11:22) via bastion (...)`. */
  label: string;
  user: string;
  connectTimeoutMs: number;
  /** What authentication tried, e.g. `agent`, `~/.ssh/id_ed25519`. */
  triedAuth: string[];
}

/** The reason part after `cannot connect to X: `. */
export function describeConnectFailure(err: Ssh2Error, ctx: ConnectFailureContext): string {
  if (err.level === 'client-timeout') return `timed out after ${formatSeconds(ctx.connectTimeoutMs)}`;
  if (err.level === 'client-authentication') {
    const tried = ctx.triedAuth.length > 0 ? ctx.triedAuth.join(', ') : 'nothing';
    return `authentication failed for ${ctx.user} (tried: ${tried})`;
  }
  if (err.code && SOCKET_REASONS[err.code]) return SOCKET_REASONS[err.code]!;
  const first = err.message.split('\n')[0] ?? 'unknown error';
  return first.replace(/\.$/, '');
}

export function connectFailure(err: unknown, ctx: ConnectFailureContext): ConnectionError {
  const e = (err instanceof Error ? err : new Error(String(err))) as Ssh2Error;
  return new ConnectionError(`cannot connect to ${ctx.label}: ${describeConnectFailure(e, ctx)}`, e.message, { cause: e });
}

/** `10 s`, `1.5 s`: the unit the user wrote connect_timeout in. */
function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
