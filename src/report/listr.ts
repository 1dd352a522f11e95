/**
 * Live progress on a TTY: one listr2 task per host, its title showing the phase and the
 * step being applied. Events arrive from the engine; each task waits on a promise the
 * events settle. Diffs and the summary are printed after the live display ends so they
 * never interleave with it.
 */
import { Listr, type ListrTaskWrapper } from 'listr2';
import type { Change } from '../resources/types.js';
import { gateLine, type GateResult } from '../engine/health.js';
import { restoreLines } from './rollout-lines.js';
import type { RestoreReport, HandlerOutcome, HostResult, Mode, Reporter, ResolvedStep, StepOutcome } from '../engine/types.js';
import { planLines } from './plan-lines.js';
import { resultLine } from './result-lines.js';
import type { ReporterOptions } from './plain.js';
import { summaryTable } from './summary.js';

interface HostSlot {
  task?: ListrTaskWrapper<unknown, any, any>;
  done?: (r: HostResult) => void;
  /** A result that arrived before listr2 started the host's task. */
  early?: HostResult;
  counts: { started: number; total: number };
}

export class ListrReporter implements Reporter {
  private readonly slots = new Map<string, HostSlot>();
  private readonly plans = new Map<string, string[]>();
  private readonly after = new Map<string, string[]>();
  private readonly running: Promise<unknown>;

  constructor(hosts: string[], private readonly opts: ReporterOptions) {
    const list = new Listr(
      hosts.map((host) => ({
        title: `${host}: waiting`,
        task: (_ctx: unknown, task: ListrTaskWrapper<unknown, any, any>) =>
          new Promise<void>((resolve, reject) => {
            const slot = this.slot(host);
            slot.task = task;
            slot.done = (r) => {
              const label = `${host}: ${r.status} (${(r.durationMs / 1000).toFixed(1)} s)`;
              if (['failed', 'unreachable', 'partial', 'interrupted', 'restored', 'restore failed', 'not started'].includes(r.status)) reject(new Error(this.opts.redactor.redact(`${host}: ${r.error ?? r.status}`)));
              else {
                task.title = label;
                resolve();
              }
            };
            if (slot.early) slot.done(slot.early);
          }),
      })),
      // Ctrl-C belongs to the CLI (finish running steps, then exit 130), not to listr2.
      { concurrent: true, exitOnError: false, registerSignalListeners: false, rendererOptions: { collapseErrors: false } },
    );
    this.running = list.run().catch(() => undefined);
  }

  /** Lines printed after a host's result whatever the mode: failures, gate results, restores. */
  private afterLines(host: string): string[] {
    let f = this.after.get(host);
    if (!f) this.after.set(host, (f = []));
    return f;
  }
  private slot(host: string): HostSlot {
    let s = this.slots.get(host);
    if (!s) this.slots.set(host, (s = { counts: { started: 0, total: 0 } }));
    return s;
  }
  private title(host: string, text: string): void {
    const t = this.slot(host).task;
    if (t) t.title = this.opts.redactor.redact(`${host}: ${text}`);
  }
  hostStart(host: string): void {
    this.title(host, 'starting');
  }
  hostPhase(host: string, phase: string): void {
    this.title(host, phase === 'connect' ? 'connecting' : phase === 'probe' ? 'probing' : 'applying');
  }
  hostPlan(host: string, changes: Change[], steps: ResolvedStep[], pendingHandlers: string[] = []): void {
    this.slot(host).counts = { started: 0, total: changes.length };
    this.plans.set(host, planLines(host, changes, steps, pendingHandlers, this.opts));
    this.title(host, `${changes.length} of ${steps.length} steps differ`);
  }
  stepStart(host: string, o: StepOutcome): void {
    const s = this.slot(host);
    s.counts.started++;
    this.title(host, `applying ${s.counts.started}/${s.counts.total}: ${o.name}`);
  }
  stepDone(host: string, o: StepOutcome): void {
    if (o.status === 'failed') this.afterLines(host).push(`${host}: FAILED ${o.name}\n${(o.error ?? '').replace(/^/gm, '    ')}`);
  }
  handlerDone(host: string, h: HandlerOutcome): void {
    this.title(host, `handler ${h.name}`);
    if (h.status === 'failed') this.afterLines(host).push(`${host}: handler ${h.name} FAILED\n${(h.error ?? '').replace(/^/gm, '    ')}`);
  }
  gatesDone(host: string, results: GateResult[]): void {
    this.title(host, 'health gates');
    this.afterLines(host).push(...results.map((g) => `${host}: ${gateLine(g)}`));
  }
  restoreDone(host: string, report: RestoreReport): void {
    this.afterLines(host).push(...restoreLines(host, report));
  }
  hostDone(r: HostResult): void {
    const slot = this.slot(r.host);
    if (slot.done) slot.done(r);
    else slot.early = r;
  }
  async runDone(results: HostResult[], mode: Mode): Promise<void> {
    await this.running;
    // check: the plan is the result. apply: what was done, then the failures; the plan only with --diff.
    const showPlan = mode === 'check' || this.opts.showDiff;
    const lines = results.flatMap((r) => [
      ...(showPlan ? (this.plans.get(r.host) ?? []) : r.steps.length ? [resultLine(r)] : []),
      ...(this.after.get(r.host) ?? []),
    ]);
    const out = [...lines, '', summaryTable(results, mode, this.opts.color)].join('\n');
    (this.opts.write ?? ((t: string) => process.stdout.write(t)))(this.opts.redactor.redact(out) + '\n');
  }
}
