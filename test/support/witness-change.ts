/**
 * Runs one change under the traffic witness: the stream is flowing (a first batch of
 * requests answered, keep-alive connections open) before the change starts, and keeps
 * flowing until a batch has been answered after it ended, so the figures cover the whole
 * change and the traffic that follows it; no figure depends on the machine's speed.
 */
import { startWitness, type WitnessOptions, type WitnessReport } from './traffic-witness.js';

export interface WitnessedChange<T> {
  report: WitnessReport;
  result: T;
  /** Witness clock (ms) at which the change started and ended. */
  startedAtMs: number;
  endedAtMs: number;
}

/** Requests answered before the change starts and again after it ends (default 300). */
export async function underTraffic<T>(
  what: string,
  change: () => Promise<T>,
  opts: WitnessOptions & { settle?: number },
): Promise<WitnessedChange<T>> {
  const witness = startWitness(opts);
  const settle = opts.settle ?? 300;
  let result: T;
  let stopped: WitnessReport | undefined;
  try {
    await witness.answeredMore(settle);
    witness.mark(`${what}: started`);
    result = await change();
    witness.mark(`${what}: done`);
    await witness.answeredMore(settle);
  } finally {
    // Always stop: a failing change must not leave the stream running.
    stopped = await witness.stop();
  }
  const report = stopped;
  const at = (label: string) => report.marks.find((m) => m.label === `${what}: ${label}`)!.atMs;
  return { report, result, startedAtMs: at('started'), endedAtMs: at('done') };
}
