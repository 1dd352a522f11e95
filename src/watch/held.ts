/**
 * One SSH connection per host, held across watch cycles. A host that cannot be reached is
 * tried again only after a backoff that doubles up to a cap (never in a tight loop); a
 * connection that drops (keepalives unanswered, host rebooted) is reopened the same way.
 */
import { ProvisionError } from '../config/errors.js';
import type { Connection } from '../transport/connection.js';

export interface BackoffPolicy {
  /** First wait after a failed connect. */
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 5_000, maxMs: 300_000 };

/** Pure: the wait before attempt `failures + 1` (failures >= 1). */
export function backoffMs(failures: number, policy: BackoffPolicy): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, failures - 1));
}

type Lossy = Connection & { isLost?(): boolean };

/** `tried`: a connect was attempted now (false: still waiting out the backoff). */
export type Held = { conn: Connection } | { error: string; retryAt: number; tried: boolean };

export class HeldConnection {
  private conn: Lossy | undefined;
  private failures = 0;
  private retryAt = 0;
  private lastError = '';

  constructor(
    private readonly connect: () => Promise<Connection>,
    private readonly policy: BackoffPolicy = DEFAULT_BACKOFF,
    private readonly now: () => number = Date.now,
  ) {}

  get connected(): boolean {
    return this.conn !== undefined && !this.conn.isLost?.();
  }

  /** The held connection, a new one, or why there is none (and when the next try is). */
  async get(): Promise<Held> {
    if (this.conn && !this.conn.isLost?.()) return { conn: this.conn };
    if (this.conn) await this.drop();
    if (this.failures > 0 && this.now() < this.retryAt) return { error: this.lastError, retryAt: this.retryAt, tried: false };
    try {
      this.conn = (await this.connect()) as Lossy;
      this.failures = 0;
      return { conn: this.conn };
    } catch (e) {
      this.failures++;
      this.lastError = e instanceof ProvisionError ? e.shortMessage : (e as Error).message;
      this.retryAt = this.now() + backoffMs(this.failures, this.policy);
      return { error: this.lastError, retryAt: this.retryAt, tried: true };
    }
  }

  /** Forget a connection that was lost mid-exec; the next get() reconnects at once. */
  async drop(): Promise<void> {
    const c = this.conn;
    this.conn = undefined;
    await c?.close().catch(() => undefined);
  }

  /**
   * A view of the held connection whose close() leaves it open: what the engine's normal
   * apply path (which closes its connection when the host is done) is handed for a repair.
   */
  static borrowed(conn: Connection): Connection {
    const view: Connection = {
      hostName: conn.hostName,
      exec: (script, options) => conn.exec(script, options),
      close: () => Promise.resolve(),
    };
    if (conn.acceptsPayloads) view.acceptsPayloads = () => conn.acceptsPayloads!();
    // A repair's apply builds its script once the session is open, as a run's does.
    if (conn.execDeferred) view.execDeferred = (build, options) => conn.execDeferred!(build, options);
    return view;
  }
}
