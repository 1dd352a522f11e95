/**
 * The witness's figures as people read them: one summary line per change, and each
 * failure placed after the latest mark before it ("+37 ms after `reload`").
 */
import type { WitnessFailure, WitnessMark, WitnessReport } from './traffic-witness.js';

const n = (x: number) => x.toLocaleString('en-US');

/** "12,400 requests during the apply, 0 failed (worst latency 48 ms)". */
export function summaryLine(what: string, r: WitnessReport): string {
  const kinds = `keep-alive ${n(r.byKind['keep-alive'].failed)}/${n(r.byKind['keep-alive'].sent)}, new connection ${n(r.byKind.new.failed)}/${n(r.byKind.new.sent)}`;
  const skipped = r.skipped ? `, ${n(r.skipped)} not sent (the witness fell behind)` : '';
  return `${n(r.sent)} requests during ${what}, ${n(r.failed)} failed (${kinds}; worst latency ${n(r.worstLatencyMs)} ms)${skipped}`;
}

/** The latest mark at or before `atMs`, if any. */
export function markBefore(marks: WitnessMark[], atMs: number): WitnessMark | undefined {
  let found: WitnessMark | undefined;
  for (const m of marks) if (m.atMs <= atMs) found = m;
  return found;
}

/** One line per failure: time, place against the marks, target, connection, cause. */
export function failureLines(r: WitnessReport, limit = 40): string[] {
  const line = (f: WitnessFailure) => {
    const m = markBefore(r.marks, f.atMs);
    const where = m ? `+${f.atMs - m.atMs} ms after "${m.label}"` : 'before the first mark';
    return `  ${f.wall} (${f.atMs} ms, ${where}) ${f.target} ${f.kind}${f.reused ? ' (reused connection)' : ''}: ${f.cause}`;
  };
  const lines = r.failures.slice(0, limit).map(line);
  if (r.failures.length > limit) lines.push(`  ... and ${r.failures.length - limit} more`);
  return lines;
}

/** Summary plus the failures, for a test's log or the demo. */
export function describeReport(what: string, r: WitnessReport): string {
  return [summaryLine(what, r), ...failureLines(r)].join('\n');
}

/** Per host (address without port): first and last failure, in witness milliseconds. */
export function failureWindows(r: WitnessReport): Map<string, { firstMs: number; lastMs: number; failed: number }> {
  const out = new Map<string, { firstMs: number; lastMs: number; failed: number }>();
  for (const f of r.failures) {
    const host = f.target.split(':')[0]!;
    const w = out.get(host);
    if (!w) out.set(host, { firstMs: f.atMs, lastMs: f.atMs, failed: 1 });
    else Object.assign(w, { lastMs: Math.max(w.lastMs, f.atMs), failed: w.failed + 1 });
  }
  return out;
}
