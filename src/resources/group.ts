/**
 * `group`: a local group present (optionally with a fixed gid) or absent. The apply
 * fragment re-checks with `getent group` before groupadd/groupmod/groupdel: a package
 * installed earlier in the run may have created the group already.
 */
import { z } from 'zod';
import { nameSchema } from './file-common.js';
import { joinSh, sh, type Sh } from './sh.js';
import type { AttrDiff, ResourceType } from './types.js';

const schema = z.strictObject({
  name: nameSchema,
  system: z.boolean().default(false),
  gid: z.number().int().nonnegative().optional(),
  state: z.enum(['present', 'absent']).default('present'),
});
export type GroupSpec = z.infer<typeof schema>;

function presentFragment(s: GroupSpec): Sh {
  const n = s.name;
  const add = ['groupadd', ...(s.system ? ['--system'] : []), ...(s.gid !== undefined ? ['--gid', String(s.gid)] : []), n];
  const lines = [sh`_g=$(getent group ${n})`, sh`if [ -z "$_g" ]; then`, sh`  ${add} || return 1`, sh`  _changed`];
  if (s.gid !== undefined) {
    lines.push(
      sh`else`,
      sh`  _g=\${_g#*:}; _g=\${_g#*:}; _g=\${_g%%:*}`,
      sh`  if [ "$_g" != ${s.gid} ]; then groupmod --gid ${s.gid} ${n} || return 1; _changed; fi`,
    );
  }
  lines.push(sh`fi`);
  return joinSh(lines);
}

export const groupResource: ResourceType<GroupSpec> = {
  kind: 'group',
  schema,
  id: (s) => `group ${s.name}`,
  facts: (s) => [{ kind: 'group', name: s.name }],
  diff(s, facts, ctx) {
    const have = facts.group.get(s.name) ?? null;
    const id = `group ${s.name}`;
    if (s.state === 'absent') {
      if (!have) return null;
      return { step: ctx.step, kind: 'group', id, action: 'delete', reason: 'exists and must be absent', attrs: [{ field: 'gid', before: String(have.gid), after: null }], spec: s };
    }
    if (!have) {
      const attrs: AttrDiff[] = [{ field: 'group', before: null, after: s.name }];
      if (s.gid !== undefined) attrs.push({ field: 'gid', before: null, after: String(s.gid) });
      return { step: ctx.step, kind: 'group', id, action: 'create', reason: 'does not exist', attrs, spec: s };
    }
    if (s.gid !== undefined && have.gid !== s.gid) {
      return { step: ctx.step, kind: 'group', id, action: 'update', reason: 'gid differs', attrs: [{ field: 'gid', before: String(have.gid), after: String(s.gid) }], spec: s };
    }
    return null;
  },
  apply(change) {
    const s = change.spec;
    if (s.state === 'absent') {
      return sh`if getent group ${s.name} >/dev/null; then groupdel ${s.name} || return 1; _changed; fi`;
    }
    return presentFragment(s);
  },
};
