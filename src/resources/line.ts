/**
 * `line`: ensure a line is present (replacing the last line matching `regexp`, else
 * appending) or absent (removing every matching line). The new content is computed on the
 * controller with JavaScript regexps (no grep/sed dialect surprises) and installed with the
 * same atomic `_put` as files, guarded by the hash the probe saw: if the file changed in
 * between, the step fails instead of overwriting someone else's edit.
 */
import { z } from 'zod';
import { absPathSchema, asText, modeSchema, putFileFragment, sha256 } from './file-common.js';
import { quoteAll } from './sh.js';
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

export function compileRegexp(re: string): RegExp {
  return new RegExp(re);
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
  id: (s) => `${s.path} ${s.regexp ?? s.line ?? ''}`,
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
    { kind: 'sha256', path: s.path },
    { kind: 'content', path: s.path },
  ],
  diff(s, facts, ctx) {
    const st = facts.stat.get(s.path) ?? null;
    const base = { step: ctx.step, kind: 'line', id: `line ${s.path}` };
    if (!st) {
      if (s.state === 'absent') return null;
      if (!s.create) {
        return { ...base, action: 'update', reason: 'file does not exist (set `create: true` to create it)', attrs: [], spec: s, data: { fail: true } };
      }
      const after = `${s.line}\n`;
      return { ...base, action: 'create', reason: 'file does not exist', attrs: [], content: { path: s.path, before: null, after }, spec: s, data: { before: null, after } };
    }
    const bytes = facts.content.get(s.path);
    const text = bytes ? asText(bytes) : null;
    if (text === null) {
      return { ...base, action: 'update', reason: 'file is not readable text (or over 1 MiB)', attrs: [], spec: s, data: { fail: true } };
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
      data: { before: facts.sha256.get(s.path) ?? null, after },
    };
  },
  apply(change, ctx) {
    const s = change.spec as LineSpec;
    const data = change.data as { fail?: boolean; before: string | null; after: string };
    if (data.fail) return `_err ${quoteAll([`line ${s.path}: ${change.reason}`])}; return 1`;
    const newSha = sha256(data.after);
    const guard = data.before
      ? `_h=$(_sha ${quoteAll([s.path])}); if [ "$_h" != ${data.before} ] && [ "$_h" != ${newSha} ]; then _err ${quoteAll([`${s.path} changed since it was probed; re-run to converge`])}; return 1; fi\n`
      : '';
    return guard + putFileFragment({ dest: s.path, content: Buffer.from(data.after, 'utf8'), mode: s.mode }, ctx);
  },
};
