/**
 * Plain line reporter, for CI and any non-TTY output: one line per event, prefixed with the
 * host name, so interleaved hosts stay readable and grep-able.
 */
import type { Change } from '../resources/types.js';
import type { HandlerOutcome, HostResult, Mode, Reporter, ResolvedStep, RestoreReport, StepOutcome } from '../engine/types.js';
import { gateLine, type GateResult } from '../engine/health.js';
import { restoreLines } from './rollout-lines.js';
import { planLines } from './plan-lines.js';
import type { Redactor } from './redact.js';
import { summaryTable } from './summary.js';

export interface ReporterOptions {
  redactor: Redactor;
  showDiff: boolean;
  color: boolean;
  /**
   * `--verbose`: every phase with its time since the host started, unchanged steps too with
   * why they are in sync, and errors' long form.
   */
  verbose?: boolean;
  write?: (text: string) => void;
}

export class PlainReporter implements Reporter {
  private readonly write: (text: string) => void;
  constructor(private readonly opts: ReporterOptions) {
    this.write = opts.write ?? ((t) => process.stdout.write(t));
  }
  private line(host: string, text: string): void {
    this.write(this.opts.redactor.redact(`${host}: ${text}`) + '\n');
  }
  private readonly started = new Map<string, number>();
  /** `[+1.23 s]`: time since the host started, on verbose lines. */
  private at(host: string): string {
    return `[+${((Date.now() - (this.started.get(host) ?? Date.now())) / 1000).toFixed(2)} s] `;
  }
  hostStart(host: string): void {
    this.started.set(host, Date.now());
    if (this.opts.verbose) this.line(host, `${this.at(host)}starting`);
  }
  hostPhase(host: string, phase: string): void {
    if (this.opts.verbose) {
      const what = phase === 'connect' ? 'connecting' : phase === 'probe' ? 'probing (one exec: every step\'s facts)' : 'applying (one exec: the changed steps)';
      this.line(host, `${this.at(host)}${what}`);
    } else if (phase === 'apply') this.line(host, 'applying');
  }
  hostPlan(host: string, changes: Change[], steps: ResolvedStep[], pendingHandlers: string[] = [], okReasons?: ReadonlyMap<number, string>): void {
    if (this.opts.verbose) {
      const changed = new Set(changes.map((c) => c.step));
      this.line(host, `${this.at(host)}planned: ${changes.length} of ${steps.length} steps differ`);
      for (const s of steps) {
        const why = okReasons?.get(s.index);
        if (!changed.has(s.index)) this.line(host, `ok ${s.name} (${s.where})${why ? `: ${why}` : ''}`);
      }
    }
    for (const l of planLines(host, changes, steps, pendingHandlers, this.opts)) this.write(`${l}\n`);
  }
  stepDone(host: string, o: StepOutcome): void {
    if (this.opts.verbose && o.status === 'ok') this.line(host, `${this.at(host)}ok ${o.name} (nothing left to do when it ran)`);
    if (o.status === 'failed') {
      this.line(host, `FAILED ${o.name}`);
      if (o.error) this.write(this.opts.redactor.redact(o.error.replace(/^/gm, '    ')) + '\n');
    } else if (o.status === 'changed') {
      this.line(host, `changed ${o.change?.live || o.change?.runtime ? `(runtime) ${o.name}: ${runtimeNote(o.change)}` : o.name}`);
    }
  }
  handlerDone(host: string, h: HandlerOutcome): void {
    this.line(host, `handler ${h.name}: ${h.status === 'failed' ? 'FAILED' : h.status === 'changed' ? 'ran' : 'not needed'}`);
    if (h.error && h.status === 'failed') this.write(this.opts.redactor.redact(h.error.replace(/^/gm, '    ')) + '\n');
  }
  hostDone(r: HostResult): void {
    if (this.opts.verbose) this.line(r.host, `${this.at(r.host)}${r.execs} exec${r.execs === 1 ? '' : 's'} on one SSH connection`);
    this.line(r.host, `${r.status}${r.error ? `: ${r.error}` : ''} (${(r.durationMs / 1000).toFixed(1)} s)`);
    if (this.opts.verbose && r.detail) this.write(this.opts.redactor.redact(r.detail.replace(/^/gm, '    ')) + '\n');
  }
  batchStart(unit: string | null, batch: number, batches: number, hosts: string[]): void {
    this.write(`rollout${unit ? ` ${unit}` : ''}: batch ${batch}/${batches}: ${hosts.join(', ')}\n`);
  }
  gatesDone(host: string, results: GateResult[]): void {
    for (const g of results) this.line(host, gateLine(g));
  }
  restoreDone(host: string, report: RestoreReport): void {
    for (const l of restoreLines(host, report)) this.write(this.opts.redactor.redact(l) + '\n');
  }
  rolloutStopped(reason: string): void {
    this.write(`rollout: ${reason}\n`);
  }
  runDone(results: HostResult[], mode: Mode): void {
    this.write('\n' + this.opts.redactor.redact(summaryTable(results, mode, this.opts.color)) + '\n');
  }
}

/** How a change was applied to the running service without a handler (engine/live-changes.ts). */
function runtimeNote(c: NonNullable<StepOutcome['change']>): string {
  if (c.live) return `only lines applied live by "${c.live.name}"`;
  return (c.runtime ?? []).join('; ');
}
