/**
 * What the live display prints after an apply, per host: what was done, in one line
 * (`lb-1: 62 steps changed, 1 handler ran`), then the failures in full. The plan (every
 * `+ consul group: does not exist`) is what `check` reports, and what `apply --diff` or
 * `--verbose` shows; printed after an apply's results it read as a list of failures.
 */
import type { HostResult } from '../engine/types.js';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export function resultLine(r: HostResult): string {
  const changed = r.steps.filter((s) => s.status === 'changed').length;
  const failed = r.steps.filter((s) => s.status === 'failed').length;
  const skipped = r.steps.filter((s) => s.status === 'skipped').length;
  const ran = r.handlers.filter((h) => h.status === 'changed').length;
  const parts = [changed || !failed ? `${plural(changed, 'step')} changed` : ''];
  if (ran) parts.push(`${plural(ran, 'handler')} ran`);
  if (failed) parts.push(`${failed} failed`);
  if (skipped) parts.push(`${skipped} not run`);
  return `${r.host}: ${parts.filter(Boolean).join(', ')}`;
}
