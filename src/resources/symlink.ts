/** `symlink`: PATH -> TARGET, replaced atomically (ln to a temp name, then rename). */
import { z } from 'zod';
import { absPathSchema, nameSchema } from './file-common.js';
import { sh } from './sh.js';
import type { ResourceType } from './types.js';

const schema = z.strictObject({
  path: absPathSchema,
  target: z.string().min(1).optional(),
  owner: nameSchema.optional(),
  group: nameSchema.optional(),
  state: z.enum(['present', 'absent']).optional(),
});
export type SymlinkSpec = z.infer<typeof schema>;

export const symlinkResource: ResourceType<SymlinkSpec> = {
  kind: 'symlink',
  schema,
  id: (s) => `symlink ${s.path}`,
  check: (s) => (s.state !== 'absent' && !s.target ? '`target` is required' : null),
  facts: (s) => [{ kind: 'stat', path: s.path }],
  diff(s, facts, ctx) {
    const st = facts.stat.get(s.path) ?? null;
    const base = { step: ctx.step, kind: 'symlink', id: `symlink ${s.path}`, spec: s };
    if (s.state === 'absent') {
      return st ? { ...base, action: 'delete', reason: 'exists and must be absent', attrs: [] } : null;
    }
    if (st?.type === 'l' && st.target === s.target) return null;
    const before = !st ? null : st.type === 'l' ? st.target : `(${st.type === 'd' ? 'directory' : 'file'})`;
    return {
      ...base,
      action: st ? 'update' : 'create',
      reason: !st ? 'does not exist' : st.type === 'l' ? 'points elsewhere' : 'is not a symlink',
      attrs: [{ field: 'target', before, after: s.target ?? null }],
    };
  },
  apply(change, ctx) {
    const s = change.spec;
    if (s.state === 'absent') return sh`_absent ${s.path}`;
    return sh`_link ${[s.path, s.target!, ctx.stagePath(s.path), s.owner ?? '', s.group ?? '']}`;
  },
};
