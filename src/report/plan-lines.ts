/** The plan of one host as printed lines: one per change (+ create, - delete, ~ update), diffs, pending handlers. */
import type { ResolvedStep } from '../engine/types.js';
import type { Change } from '../resources/types.js';
import { renderChange } from './diff-render.js';
import type { Redactor } from './redact.js';

export function planLines(
  host: string,
  changes: Change[],
  steps: ResolvedStep[],
  pendingHandlers: string[],
  opts: { redactor: Redactor; showDiff: boolean; color: boolean },
): string[] {
  const lines: string[] = [];
  for (const c of changes) {
    const step = steps.find((s) => s.index === c.step);
    lines.push(`${host}: ${c.action === 'create' ? '+' : c.action === 'delete' ? '-' : '~'} ${step?.name ?? c.id}: ${c.reason}`);
    if (opts.showDiff) {
      const d = renderChange(c, opts.redactor, opts.color);
      if (d) lines.push(d);
    }
  }
  for (const h of pendingHandlers) lines.push(`${host}: ! handler ${h}: notified by an earlier apply that did not complete it; it will run`);
  return lines.map((l) => opts.redactor.redact(l));
}
