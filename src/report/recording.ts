/** Records every event as a plain object, for tests (like listr2's `test` renderer). */
import type { Change } from '../resources/types.js';
import type { HandlerOutcome, HostResult, Mode, Reporter, StepOutcome } from '../engine/types.js';

export type RecordedEvent =
  | { event: 'hostStart'; host: string }
  | { event: 'hostPhase'; host: string; phase: string }
  | { event: 'hostPlan'; host: string; changes: Change[]; pendingHandlers: string[]; okReasons: Record<number, string> }
  | { event: 'stepStart'; host: string; index: number }
  | { event: 'stepDone'; host: string; outcome: StepOutcome }
  | { event: 'handlerDone'; host: string; outcome: HandlerOutcome }
  | { event: 'hostDone'; result: HostResult }
  | { event: 'runDone'; mode: Mode; results: HostResult[] };

export class RecordingReporter implements Reporter {
  readonly events: RecordedEvent[] = [];
  hostStart(host: string): void {
    this.events.push({ event: 'hostStart', host });
  }
  hostPhase(host: string, phase: string): void {
    this.events.push({ event: 'hostPhase', host, phase });
  }
  hostPlan(host: string, changes: Change[], _steps?: unknown, pendingHandlers: string[] = [], okReasons?: ReadonlyMap<number, string>): void {
    this.events.push({ event: 'hostPlan', host, changes, pendingHandlers, okReasons: Object.fromEntries(okReasons ?? []) });
  }
  stepStart(host: string, outcome: StepOutcome): void {
    this.events.push({ event: 'stepStart', host, index: outcome.index });
  }
  stepDone(host: string, outcome: StepOutcome): void {
    this.events.push({ event: 'stepDone', host, outcome: { ...outcome } });
  }
  handlerDone(host: string, outcome: HandlerOutcome): void {
    this.events.push({ event: 'handlerDone', host, outcome });
  }
  hostDone(result: HostResult): void {
    this.events.push({ event: 'hostDone', result });
  }
  runDone(results: HostResult[], mode: Mode): void {
    this.events.push({ event: 'runDone', mode, results });
  }
}
