/**
 * Plain line reporter, for CI and any non-TTY output: one line per event, prefixed with the
 * host name, so interleaved hosts stay readable and grep-able.
 */
import type { Change } from '../resources/types.js';
import type { HandlerOutcome, HostResult, Mode, Reporter, ResolvedStep, StepOutcome } from '../engine/types.js';
import { planLines } from './plan-lines.js';
import type { Redactor } from './redact.js';
import { summaryTable } from './summary.js';

export interface ReporterOptions {
  redactor: Redactor;
  showDiff: boolean;
  color: boolean;
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
  hostStart(): void {}
  hostPhase(host: string, phase: string): void {
    if (phase === 'apply') this.line(host, 'applying');
  }
  hostPlan(host: string, changes: Change[], steps: ResolvedStep[], pendingHandlers: string[] = []): void {
    for (const l of planLines(host, changes, steps, pendingHandlers, this.opts)) this.write(`${l}\n`);
  }
  stepDone(host: string, o: StepOutcome): void {
    if (o.status === 'failed') {
      this.line(host, `FAILED ${o.name}`);
      if (o.error) this.write(this.opts.redactor.redact(o.error.replace(/^/gm, '    ')) + '\n');
    } else if (o.status === 'changed') {
      this.line(host, `changed ${o.name}`);
    }
  }
  handlerDone(host: string, h: HandlerOutcome): void {
    this.line(host, `handler ${h.name}: ${h.status === 'failed' ? 'FAILED' : h.status === 'changed' ? 'ran' : 'not needed'}`);
    if (h.error && h.status === 'failed') this.write(this.opts.redactor.redact(h.error.replace(/^/gm, '    ')) + '\n');
  }
  hostDone(r: HostResult): void {
    this.line(r.host, `${r.status}${r.error ? `: ${r.error}` : ''} (${(r.durationMs / 1000).toFixed(1)} s)`);
  }
  runDone(results: HostResult[], mode: Mode): void {
    this.write('\n' + this.opts.redactor.redact(summaryTable(results, mode, this.opts.color)) + '\n');
  }
}
