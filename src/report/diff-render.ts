/** Human diffs of a Change: unified content diff and attribute lines, optionally coloured. */
import { createTwoFilesPatch } from 'diff';
import pc from 'picocolors';
import type { Change } from '../resources/types.js';
import type { Redactor } from './redact.js';

export function renderChange(change: Change, redactor: Redactor, color: boolean): string {
  const c = color ? pc : pc.createColors(false);
  const lines: string[] = [];
  for (const a of change.attrs) lines.push(`    ${a.field}: ${a.before ?? '(none)'} -> ${a.after ?? '(none)'}`);
  const content = change.content;
  if (content) {
    if (content.binary || content.after === null) {
      lines.push(`    content: binary or too large to show (${change.reason})`);
    } else if (content.before === undefined) {
      lines.push('    content differs (run with --diff to see it)');
    } else {
      const patch = createTwoFilesPatch(content.path, content.path, redactor.redact(content.before ?? ''), redactor.redact(content.after), content.before === null ? '(absent)' : 'host', 'wanted', { context: 3 });
      for (const l of patch.split('\n').slice(2)) {
        if (!l) continue;
        const colored = l.startsWith('+') ? c.green(l) : l.startsWith('-') ? c.red(l) : l.startsWith('@@') ? c.cyan(l) : l;
        lines.push(`    ${colored}`);
      }
    }
  }
  return redactor.redact(lines.join('\n'));
}
