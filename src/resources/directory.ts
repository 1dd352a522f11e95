/** `directory`: exists (mkdir -p) with mode/owner/group, or is absent. */
import { z } from 'zod';
import { absPathSchema, attrDiffs, modeSchema, nameSchema, normalizeMode } from './file-common.js';
import { sh } from './sh.js';
import type { ResourceType } from './types.js';

const schema = z.strictObject({
  path: absPathSchema,
  mode: modeSchema.optional(),
  owner: nameSchema.optional(),
  group: nameSchema.optional(),
  state: z.enum(['present', 'absent']).optional(),
});
export type DirectorySpec = z.infer<typeof schema>;

export const directoryResource: ResourceType<DirectorySpec> = {
  kind: 'directory',
  schema,
  id: (s) => `directory ${s.path}`,
  facts: (s) => [{ kind: 'stat', path: s.path }],
  diff(s, facts, ctx) {
    const st = facts.stat.get(s.path) ?? null;
    const base = { step: ctx.step, kind: 'directory', id: `directory ${s.path}`, spec: s };
    if (s.state === 'absent') {
      return st ? { ...base, action: 'delete', reason: 'exists and must be absent', attrs: [] } : null;
    }
    if (!st) return { ...base, action: 'create', reason: 'does not exist', attrs: attrDiffs(s, null) };
    if (st.type !== 'd') return { ...base, action: 'update', reason: `exists but is not a directory (type ${st.type}); remove it first`, attrs: [] };
    const attrs = attrDiffs(s, st);
    return attrs.length ? { ...base, action: 'update', reason: attrs.map((a) => `${a.field} differs`).join(', '), attrs } : null;
  },
  apply(change) {
    const s = change.spec;
    if (s.state === 'absent') return sh`_absent ${s.path}`;
    return sh`_dir ${[s.path, s.mode ? normalizeMode(s.mode) : '', s.owner ?? '', s.group ?? '']}`;
  },
};
