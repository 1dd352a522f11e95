/**
 * `line`: ensure a line is present (replacing the last line matching `regexp`, else
 * appending) or absent (removing every matching line). `regexp` is a POSIX extended regex
 * (as `grep -E`, awk). The edit runs ON THE HOST with awk inside the apply script, so it is
 * correct even when an earlier step of the same apply created the file (a package that
 * ships a config file). The controller computes the same edit with JavaScript for the
 * diff preview, translating POSIX bracket classes.
 */
import { z } from 'zod';
import { absPathSchema, asText, modeSchema, normalizeMode } from './file-common.js';
import { sh } from './sh.js';
import type { ResourceType } from './types.js';

const schema = z.strictObject({
  path: absPathSchema,
  line: z.string().refine((l) => !l.includes('\n'), 'a single line, without newline').optional(),
  regexp: z.string().min(1).optional(),
  state: z.enum(['present', 'absent']).optional(),
  create: z.boolean().optional(),
  mode: modeSchema.optional(),
});
export type LineSpec = z.infer<typeof schema>;

const POSIX_CLASSES: Record<string, string> = {
  space: '\\s', blank: ' \\t', digit: '0-9', alpha: 'A-Za-z', alnum: 'A-Za-z0-9',
  upper: 'A-Z', lower: 'a-z', xdigit: '0-9A-Fa-f', punct: '!-\\/:-@\\[-`{-~',
};

/** A POSIX ERE as a JavaScript RegExp (for previews): `[[:space:]]` -> `[\s]`. */
export function compileRegexp(re: string): RegExp {
  return new RegExp(re.replace(/\[:(\w+):\]/g, (m, name: string) => POSIX_CLASSES[name] ?? m));
}

/** Pure: the new file text, or null when nothing changes. */
export function editLines(text: string, spec: LineSpec): string | null {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const re = spec.regexp ? compileRegexp(spec.regexp) : null;
  const matches = (l: string) => (re ? re.test(l) : l === spec.line);
  if (spec.state === 'absent') {
    const kept = lines.filter((l) => !matches(l));
    return kept.length === lines.length ? null : kept.map((l) => `${l}\n`).join('');
  }
  const wanted = spec.line!;
  let idx = -1;
  lines.forEach((l, i) => {
    if (matches(l)) idx = i;
  });
  if (idx < 0 && lines.includes(wanted)) return null;
  if (idx >= 0) {
    if (lines[idx] === wanted) return null;
    lines[idx] = wanted;
  } else {
    lines.push(wanted);
  }
  return lines.map((l) => `${l}\n`).join('');
}

export const lineResource: ResourceType<LineSpec> = {
  kind: 'line',
  schema,
  id: (s) => `line ${s.path} ${s.regexp ?? s.line ?? ''}`,
  check(s) {
    if (s.state !== 'absent' && s.line === undefined) return '`line` is required unless state is absent';
    if (s.state === 'absent' && !s.line && !s.regexp) return 'give `line` or `regexp` to remove';
    if (s.regexp) {
      try {
        compileRegexp(s.regexp);
      } catch (e) {
        return `invalid regexp: ${(e as Error).message}`;
      }
    }
    return null;
  },
  facts: (s) => [
    { kind: 'stat', path: s.path },
    { kind: 'content', path: s.path },
  ],
  okReason(s, facts) {
    if (!facts.stat.get(s.path)) return `${s.path} does not exist`;
    return s.state === 'absent' ? `no line of ${s.path} matches` : `${s.path} already has the line`;
  },
  diff(s, facts, ctx) {
    const st = facts.stat.get(s.path) ?? null;
    const base = { step: ctx.step, kind: 'line', id: `line ${s.path}` };
    if (!st) {
      if (s.state === 'absent') return null;
      // Without `create`, an earlier step of the apply may still create it (a package).
      const after = `${s.line}\n`;
      return { ...base, action: 'create', reason: s.create ? 'file does not exist' : 'file does not exist yet', attrs: [], content: { path: s.path, before: null, after }, spec: s };
    }
    const bytes = facts.content.get(s.path);
    const text = bytes ? asText(bytes) : null;
    if (text === null) {
      return { ...base, action: 'update', reason: 'file is not readable text (or over 1 MiB): edited on the host', attrs: [], spec: s };
    }
    const after = editLines(text, s);
    if (after === null) return null;
    return {
      ...base,
      action: 'update',
      reason: s.state === 'absent' ? 'matching line present' : 'line missing or different',
      attrs: [],
      content: { path: s.path, before: text, after },
      spec: s,
    };
  },
  apply(change, ctx) {
    const s = change.spec;
    const args = [s.path, s.state ?? 'present', s.create ? '1' : '0', ctx.stagePath(s.path), s.regexp ?? '', s.line ?? '', s.mode ? normalizeMode(s.mode) : ''];
    return sh`_line ${args} || return 1`;
  },
};
