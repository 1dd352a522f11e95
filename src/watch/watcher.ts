/**
 * The drift watcher: one held SSH connection per host, and every interval one check per
 * host (the `check` probe: one exec), up to `forks` at a time. Results go to the history
 * file and to listeners (the page's event stream). It never changes a host unless
 * `repair` is set; then a drifted host is applied through the engine's normal apply path
 * at most once per interval, and every repair is logged and kept in the history.
 */
import { EventEmitter, setMaxListeners } from 'node:events';
import { runAll } from '../engine/run.js';
import type { HostJob, HostResult, Reporter } from '../engine/types.js';
import { mapPool } from '../engine/pool.js';
import type { Redactor } from '../report/redact.js';
import { DEFAULT_BACKOFF, HeldConnection, type BackoffPolicy } from './held.js';
import type { HistoryStore } from './history.js';
import { probeHost } from './probe.js';
import type { HistoryEntry, HostCheck, HostView } from './types.js';

export interface WatchOptions {
  intervalMs: number;
  forks: number;
  repair: boolean;
  redactor: Redactor;
  history: HistoryStore;
  /** Lock holder text for repairs (`controller=... pid=...`). */
  holder: string;
  /** One line per repair and per reachability change (stderr in the CLI). */
  log: (line: string) => void;
  backoff?: BackoffPolicy;
}

interface HostState {
  job: HostJob;
  held: HeldConnection;
  last?: HostCheck;
  retryAt?: number;
  lastRepairAt?: number;
}

export interface CycleSummary {
  startedAt: string;
  durationMs: number;
  /** Completed cycles since the watcher started. */
  count: number;
}

/** A reporter that keeps nothing: a repair's outcome is read from its HostResult. */
const QUIET: Reporter = {
  hostStart: () => {},
  hostPhase: () => {},
  hostPlan: () => {},
  stepDone: () => {},
  handlerDone: () => {},
  hostDone: () => {},
  runDone: () => {},
};

export class Watcher extends EventEmitter {
  private readonly states: HostState[];
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  lastCycle: CycleSummary | undefined;

  constructor(
    jobs: HostJob[],
    readonly opts: WatchOptions,
  ) {
    super();
    // Every in-flight exec listens on the stop signal: up to `forks` at once.
    setMaxListeners(0, this.abort.signal);
    this.states = jobs.map((job) => ({ job, held: new HeldConnection(job.connect, opts.backoff ?? DEFAULT_BACKOFF) }));
  }

  views(): HostView[] {
    return this.states.map((s) => this.viewOf(s));
  }

  private viewOf(s: HostState): HostView {
    const v: HostView = { host: s.job.name, status: s.last?.status ?? 'pending', connected: s.held.connected, history: this.opts.history.of(s.job.name) };
    if (s.last) v.last = s.last;
    if (s.retryAt !== undefined && s.last?.status === 'unreachable') v.retryAt = new Date(s.retryAt).toISOString();
    return v;
  }

  /** One pass over every host. */
  async cycle(): Promise<CycleSummary> {
    const started = Date.now();
    await mapPool(this.states, this.opts.forks, (s) => this.checkHost(s));
    this.lastCycle = { startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, count: (this.lastCycle?.count ?? 0) + 1 };
    this.emit('cycle', this.lastCycle);
    return this.lastCycle;
  }

  private async record(s: HostState, check: HostCheck): Promise<void> {
    const was = s.last?.status;
    s.last = this.opts.redactor.redactDeep(check);
    if ((was === 'unreachable') !== (check.status === 'unreachable') && was !== undefined) {
      this.opts.log(`${s.job.name}: ${check.status === 'unreachable' ? `unreachable: ${s.last.error}` : 'reachable again'}`);
    }
    const entry: HistoryEntry = { t: check.checkedAt, host: check.host, status: check.status, ms: check.durationMs, steps: check.steps.length };
    if (s.last.error) entry.error = s.last.error;
    await this.opts.history.append(entry).catch((e: Error) => this.opts.log(`history: cannot append to ${this.opts.history.file}: ${e.message}`));
    this.emit('host', this.viewOf(s));
  }

  private async checkHost(s: HostState): Promise<void> {
    if (this.abort.signal.aborted) return;
    const startedAt = new Date().toISOString();
    const held = await s.held.get();
    if ('error' in held) {
      s.retryAt = held.retryAt;
      // While waiting out the backoff nothing was tried: no new history line.
      if (held.tried || s.last?.status !== 'unreachable') {
        await this.record(s, { host: s.job.name, status: 'unreachable', checkedAt: startedAt, durationMs: 0, execs: 0, steps: [], pendingHandlers: [], error: held.error });
      }
      return;
    }
    const { check, lost } = await probeHost({ job: s.job, conn: held.conn, redactor: this.opts.redactor, signal: this.abort.signal, previous: s.last });
    if (lost) await s.held.drop();
    if (this.abort.signal.aborted) return;
    await this.record(s, check);
    if (check.status === 'drift' && this.opts.repair) await this.repair(s);
  }

  /**
   * INTEGRATION POINT for rollout rules (batches, health gates, restore): a repair goes
   * through `runAll`, the engine's normal apply path, with the held connection lent to it.
   * When the rollout layer lands, call its entry here instead, with this one host.
   */
  private async repair(s: HostState): Promise<void> {
    const now = Date.now();
    if (s.lastRepairAt !== undefined && now - s.lastRepairAt < this.opts.intervalMs) return;
    s.lastRepairAt = now;
    const held = await s.held.get();
    if ('error' in held) return;
    const lent: HostJob = { ...s.job, connect: () => Promise.resolve(HeldConnection.borrowed(held.conn)) };
    const [r] = (await runAll([lent], { mode: 'apply', withContent: false, forks: 1, signal: this.abort.signal, holder: this.opts.holder }, QUIET)) as [HostResult];
    const changed = r.steps.filter((st) => st.status === 'changed').length;
    const ok = r.status === 'changed' || r.status === 'ok';
    const error = r.error ? this.opts.redactor.redact(r.error) : undefined;
    this.opts.log(`${s.job.name}: repair ${ok ? `applied, ${changed} step${changed === 1 ? '' : 's'} changed` : `failed: ${error ?? r.status}`} (${(r.durationMs / 1000).toFixed(1)} s)`);
    const entry: HistoryEntry = { t: new Date(now).toISOString(), host: s.job.name, status: ok ? 'repaired' : 'repair-failed', ms: r.durationMs, steps: changed };
    if (error) entry.error = error;
    await this.opts.history.append(entry).catch(() => undefined);
    // Show the result at once rather than a drift that no longer is.
    const again = await probeHost({ job: s.job, conn: held.conn, redactor: this.opts.redactor, signal: this.abort.signal });
    if (again.lost) await s.held.drop();
    if (!this.abort.signal.aborted) await this.record(s, again.check);
  }

  /** Cycles every interval (measured start to start) until stop(). */
  start(): void {
    this.loop ??= (async () => {
      while (!this.abort.signal.aborted) {
        const c = await this.cycle();
        const wait = Math.max(0, this.opts.intervalMs - c.durationMs);
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            this.abort.signal.removeEventListener('abort', done);
            resolve();
          };
          const timer = setTimeout(done, wait);
          this.abort.signal.addEventListener('abort', done, { once: true });
        });
      }
    })();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop?.catch(() => undefined);
    await Promise.all(this.states.map((s) => s.held.drop()));
    await this.opts.history.flush();
  }
}
