/**
 * `attributes`: mode, owner and/or group of a path that something else creates (a package,
 * a command, an earlier step): Ansible's `file: path=... mode=...` without content. The
 * path is probed with every other path (one `stat` in the probe exec); a path missing at
 * probe time may be created earlier in the same apply, so the apply re-checks on the host
 * and fails, naming the path, only if it is still missing then.
 */
import { z } from 'zod';
import { absPathSchema, attrDiffs, modeSchema, nameSchema, normalizeMode } from './file-common.js';
import { sh } from './sh.js';
import type { ResourceType } from './types.js';

const schema = z.strictObject({
  path: absPathSchema,
  mode: modeSchema.optional(),
  owner: nameSchema.optional(),
  group: nameSchema.optional(),
});
export type AttributesSpec = z.infer<typeof schema>;

export const attributesResource: ResourceType<AttributesSpec> = {
  kind: 'attributes',
  schema,
  id: (s) => `attributes ${s.path}`,
  check: (s) => (s.mode === undefined && s.owner === undefined && s.group === undefined ? 'give at least one of `mode`, `owner`, `group`' : null),
  facts: (s) => [{ kind: 'stat', path: s.path }],
  diff(s, facts, ctx) {
    const st = facts.stat.get(s.path) ?? null;
    const base = { step: ctx.step, kind: 'attributes', id: `attributes ${s.path}`, spec: s, action: 'update' as const };
    if (!st) return { ...base, reason: 'does not exist yet (an earlier step must create it)', attrs: attrDiffs(s, null) };
    const attrs = attrDiffs(s, st);
    return attrs.length ? { ...base, reason: attrs.map((a) => `${a.field} differs`).join(', '), attrs } : null;
  },
  apply(change) {
    const s = change.spec;
    const missing = `${s.path} does not exist (attributes manage an existing path)`;
    const attrs = [s.path, s.mode ? normalizeMode(s.mode) : '', s.owner ?? '', s.group ?? ''];
    return sh`if [ ! -e ${s.path} ]; then _err ${missing}; return 1; fi\n_attrs ${attrs}`;
  },
};
