/**
 * Test helper: plays the events a RecordingReporter recorded into another reporter, the
 * way the engine emitted them, so that every reporter can be snapshot-tested on the
 * events of one real run.
 */
import type { Reporter, ResolvedStep } from '../../../src/engine/types.js';
import type { RecordedEvent } from '../../../src/report/recording.js';

export async function replay(events: RecordedEvent[], reporter: Reporter, steps: ReadonlyMap<string, ResolvedStep[]>): Promise<void> {
  for (const e of events) {
    switch (e.event) {
      case 'hostStart':
        reporter.hostStart(e.host);
        break;
      case 'hostPhase':
        reporter.hostPhase(e.host, e.phase as 'connect' | 'probe' | 'apply');
        break;
      case 'hostPlan': {
        const reasons = new Map(Object.entries(e.okReasons).map(([k, v]) => [Number(k), v]));
        reporter.hostPlan(e.host, e.changes, steps.get(e.host) ?? [], e.pendingHandlers, reasons);
        break;
      }
      case 'stepStart': {
        const name = steps.get(e.host)?.find((s) => s.index === e.index)?.name ?? String(e.index);
        reporter.stepStart?.(e.host, { index: e.index, name, status: 'pending' });
        break;
      }
      case 'stepDone':
        reporter.stepDone(e.host, e.outcome);
        break;
      case 'handlerDone':
        reporter.handlerDone(e.host, e.outcome);
        break;
      case 'hostDone':
        reporter.hostDone(e.result);
        break;
      case 'runDone':
        await reporter.runDone(e.results, e.mode);
        break;
    }
  }
}
