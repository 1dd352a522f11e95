/**
 * The traffic witness: a steady stream of HTTP requests through the load balancers while
 * the stack changes, recording every failed request (reset, refused, timed out, non-2xx)
 * with its time, so that a failure can be placed against the change that caused it.
 *
 * Half of the requests go over a few persistent keep-alive connections per target (the
 * way connection pools talk to a load balancer: the idle connection is the one a reload
 * endangers; see keepalive-lane.ts), half on a new connection each (`Connection: close`:
 * what a restart's refused window hits).
 *
 * Written on node:http and node:net rather than autocannon: the tests need each failed
 * request with its time, target, connection kind and cause, in the same clock as the
 * marks placed at each change; autocannon reports aggregates (errors, timeouts, non2xx
 * counts) over a fixed set of keep-alive connections, so neither the new-connection half
 * nor the per-failure record would come from it. The client is two small files of the
 * standard library and costs a few per cent of one core at 300 requests per second.
 *
 * Bounded by construction: only the given targets (the test LBs' addresses), at most
 * `maxRequests` requests and `maxDurationMs`, after which it stops sending by itself.
 */
import http from 'node:http';
import { SUBNET_BASE } from '../hosts/network.js';
import { KeepAliveLane, type LaneResult } from './keepalive-lane.js';

export type ConnectionKind = 'keep-alive' | 'new';

export interface WitnessFailure {
  /**
   * Milliseconds since the witness started (the marks use the same clock): when the
   * request was sent, or when the server closed the idle connection it was sent on.
   */
  atMs: number;
  wall: string;
  target: string;
  kind: ConnectionKind;
  /** `status 503`, `ECONNRESET`, `ECONNREFUSED`, `timeout`, ... */
  cause: string;
  /** Whether the request went out on a connection that had served a request before. */
  reused: boolean;
}

export interface WitnessMark {
  atMs: number;
  label: string;
}

export interface WitnessReport {
  sent: number;
  answered: number;
  failed: number;
  failures: WitnessFailure[];
  marks: WitnessMark[];
  worstLatencyMs: number;
  durationMs: number;
  byKind: Record<ConnectionKind, { sent: number; failed: number }>;
  /** True when maxRequests or maxDurationMs stopped it before stop() was called. */
  truncated: boolean;
  /**
   * Requests never sent because the witness fell behind its schedule (its own process
   * stalled on a busy machine): it skips them rather than send them in one burst that
   * would itself overrun the server under test.
   */
  skipped: number;
}

export interface WitnessOptions {
  /** Base URLs, e.g. `http://10.213.37.11/`; nothing else is ever contacted. */
  targets: string[];
  /** Requests per second over all targets (default 300). */
  ratePerSecond?: number;
  /** Keep-alive connections per target (default 8). */
  keepAliveConnections?: number;
  /** A request not answered within this is a failure (default 10 s). */
  requestTimeoutMs?: number;
  /** Hard bounds (defaults: 15 minutes and rate x 900). */
  maxDurationMs?: number;
  maxRequests?: number;
}

export interface Witness {
  /** Records a labelled point in time (e.g. "apply started"). */
  mark(label: string): void;
  /** Resolves once `n` more requests have been answered successfully from now on. */
  answeredMore(n: number): Promise<void>;
  /** Stops sending, waits for the requests in flight, and reports. */
  stop(): Promise<WitnessReport>;
}

interface Target {
  url: URL;
  lanes: KeepAliveLane[];
  /** Keep-alive requests waiting for a free lane, in order. */
  queue: (() => void)[];
  /** Lanes take turns, so each is used every lanes / rate seconds, never left to idle out. */
  turn: number;
}

const TICK_MS = 10;
/** Requests outstanding at once, at most: a slow server gets a steady stream, not a pile. */
const MAX_IN_FLIGHT = 256;

export function startWitness(opts: WitnessOptions): Witness {
  const run = new WitnessRun(opts);
  return {
    mark: (label) => run.mark(label),
    answeredMore: (n) => run.answeredMore(n),
    stop: () => run.stop(),
  };
}

interface Waiter {
  until: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

/** One witness: a timer sending what is due, and the record of what came back. */
class WitnessRun {
  private readonly rate: number;
  private readonly maxRequests: number;
  private readonly maxDurationMs: number;
  private readonly timeoutMs: number;
  private readonly targets: Target[];
  private readonly t0 = performance.now();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly waiters: Waiter[] = [];
  private readonly timer: NodeJS.Timeout;
  private stopped = false;
  private readonly report: WitnessReport = {
    sent: 0, answered: 0, failed: 0, failures: [], marks: [], worstLatencyMs: 0, durationMs: 0,
    byKind: { 'keep-alive': { sent: 0, failed: 0 }, new: { sent: 0, failed: 0 } }, truncated: false, skipped: 0,
  };

  constructor(opts: WitnessOptions) {
    this.rate = opts.ratePerSecond ?? 300;
    this.maxRequests = opts.maxRequests ?? this.rate * 900;
    this.maxDurationMs = opts.maxDurationMs ?? 15 * 60_000;
    this.timeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.targets = opts.targets.map((t) => {
      const url = labUrl(t);
      const port = Number(url.port || 80);
      // Each lane sits idle between its requests (the state a soft-stop finds it in) for
      // about lanes / rate seconds: far below HAProxy's keep-alive timeout.
      const lanes = Array.from({ length: opts.keepAliveConnections ?? 8 }, () => new KeepAliveLane(url.hostname, port, this.timeoutMs));
      return { url, lanes, queue: [], turn: 0 };
    });
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  mark(label: string): void {
    this.report.marks.push({ atMs: Math.round(this.now()), label });
  }

  answeredMore(n: number): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('witness stopped'));
    return new Promise((resolve, reject) => this.waiters.push({ until: this.report.answered + n, resolve, reject }));
  }

  async stop(): Promise<WitnessReport> {
    this.halt();
    await Promise.all([...this.inFlight]);
    for (const t of this.targets) for (const lane of t.lanes) lane.close();
    const r = this.report;
    r.failures.sort((a, b) => a.atMs - b.atMs);
    r.durationMs = Math.round(this.now());
    r.worstLatencyMs = Math.round(r.worstLatencyMs);
    return r;
  }

  private now(): number {
    return performance.now() - this.t0;
  }

  /**
   * Sends what the rate says is due by now, within the bounds. After a stall it sends at
   * most a tenth of a second's worth at once, and never more than MAX_IN_FLIGHT at a
   * time; the rest is skipped (counted), so the stream stays steady.
   */
  private tick(): void {
    const r = this.report;
    const scheduled = Math.min(Math.floor((this.now() * this.rate) / 1000), this.maxRequests);
    const burst = Math.max(1, Math.ceil(this.rate / 10));
    const behind = scheduled - r.skipped - r.sent;
    if (behind > burst) r.skipped += behind - burst;
    while (r.sent + r.skipped < scheduled && this.inFlight.size < MAX_IN_FLIGHT) {
      const n = r.sent;
      this.send(n % 2 === 0 ? 'keep-alive' : 'new', this.targets[Math.floor(n / 2) % this.targets.length]!);
    }
    r.skipped = Math.max(r.skipped, scheduled - r.sent);
    if (r.sent + r.skipped >= this.maxRequests || this.now() >= this.maxDurationMs) {
      r.truncated = true;
      this.halt();
    }
  }

  private halt(): void {
    this.stopped = true;
    clearInterval(this.timer);
    const why = new Error(`witness stopped after ${this.report.sent} requests (${this.report.failed} failed)`);
    for (const w of this.waiters.splice(0)) w.reject(why);
  }

  private send(kind: ConnectionKind, target: Target): void {
    this.report.sent++;
    this.report.byKind[kind].sent++;
    const started = this.now();
    const result = kind === 'keep-alive' ? onLane(target) : newConnection(target, this.timeoutMs);
    const p = result.then((r) => this.settle(kind, target, started, r));
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private settle(kind: ConnectionKind, target: Target, started: number, r: LaneResult): void {
    const report = this.report;
    report.worstLatencyMs = Math.max(report.worstLatencyMs, this.now() - started);
    if (r.cause === null) {
      report.answered++;
      for (const w of this.waiters.filter((w) => report.answered >= w.until)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
      return;
    }
    report.failed++;
    report.byKind[kind].failed++;
    const atMs = r.closedAt !== undefined ? r.closedAt - this.t0 : started;
    const wall = new Date(performance.timeOrigin + this.t0 + atMs).toISOString();
    report.failures.push({ atMs: Math.round(atMs), wall, target: target.url.host, kind, cause: r.cause, reused: r.reused });
  }
}

/** The witness only ever talks to loopback or the test labs' own subnet. */
export function labUrl(target: string): URL {
  const url = new URL(target);
  const ok = url.protocol === 'http:' && (/^127\./.test(url.hostname) || url.hostname.startsWith(`${SUBNET_BASE}.`));
  if (!ok) throw new Error(`traffic witness: ${target} is neither loopback nor a test lab address (${SUBNET_BASE}.X.Y)`);
  return url;
}

/** A GET on the first free keep-alive lane of the target, queued until one is free. */
function onLane(target: Target): Promise<LaneResult> {
  return new Promise((resolve) => {
    const run = () => {
      const n = target.lanes.length;
      const i = Array.from({ length: n }, (_, k) => (target.turn + k) % n).find((k) => !target.lanes[k]!.busy)!;
      target.turn = (i + 1) % n;
      const lane = target.lanes[i]!;
      void lane.get().then((r) => {
        target.queue.shift()?.();
        resolve(r);
      });
    };
    if (target.lanes.some((l) => !l.busy)) run();
    else target.queue.push(run);
  });
}

/** One GET on a new connection (`Connection: close`); null on a 2xx answer read to its end. */
function newConnection(target: Target, timeoutMs: number): Promise<LaneResult> {
  return new Promise((resolve) => {
    let done = false;
    // reusedSocket: the agent sent this request on a connection that served one before.
    const finish = (cause: string | null) => {
      if (!done) (done = true), resolve({ cause, reused: req.reusedSocket });
    };
    const req = http.get(target.url, { agent: false, timeout: timeoutMs }, (res) => {
      const status = res.statusCode ?? 0;
      res.on('error', (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
      res.on('end', () => finish(status >= 200 && status < 300 ? null : `status ${status}`));
      res.resume();
    });
    req.on('timeout', () => (finish('timeout'), req.destroy()));
    req.on('error', (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
  });
}
