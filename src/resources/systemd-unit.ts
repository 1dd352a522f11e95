/**
 * `systemd_unit`: a unit file under /etc/systemd/system, or a drop-in for one
 * (`NAME.d/DROPIN`), from inline `content` or a template (`src`, rendered by `prepare`).
 * A managed file (file-common) whose change marks a daemon-reload as pending (`_DR=1`):
 * the next `service` step (or the end of the script) runs it once.
 */
import { z } from 'zod';
import { diffManagedFile, fileFacts, modeSchema, putFileFragment, type ManagedFile, inlineOrTemplate } from './file-common.js';
import { chompSh, joinSh, sh, type Sh } from './sh.js';
import type { ResourceType } from './types.js';

export const UNIT_DIR = '/etc/systemd/system';

export const unitNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9@._:-]+\.(service|socket|timer|path|mount|target)$/, 'expected a unit name of letters, digits and `@._:-` with its type suffix, e.g. `consul.service` (.service/.socket/.timer/.path/.mount/.target)');

const schema = z.strictObject({
  name: unitNameSchema,
  dropin: z
    .string()
    .regex(/^[A-Za-z0-9_@.-]+\.conf$/, 'expected a drop-in file name of letters, digits and `_@.-` ending in .conf, such as `10-confd.conf`')
    .optional(),
  content: z.string().optional(),
  src: z.string().min(1).optional(),
  mode: modeSchema.default('0644'),
  state: z.enum(['present', 'absent']).default('present'),
});
export type SystemdUnitSpec = z.infer<typeof schema>;

export function unitDest(s: Pick<SystemdUnitSpec, 'name' | 'dropin'>): string {
  return s.dropin ? `${UNIT_DIR}/${s.name}.d/${s.dropin}` : `${UNIT_DIR}/${s.name}`;
}

function managed(s: SystemdUnitSpec): ManagedFile {
  return { dest: unitDest(s), content: Buffer.from(s.content ?? '', 'utf8'), mode: s.mode, owner: 'root', group: 'root', state: s.state };
}

export const systemdUnitResource: ResourceType<SystemdUnitSpec, ManagedFile> = {
  kind: 'systemd_unit',
  schema,
  id: (s) => `systemd_unit ${unitDest(s)}`,
  check: inlineOrTemplate.check,
  prepare: (s, ctx) => inlineOrTemplate.prepare(s, ctx),
  facts: (s) => fileFacts(unitDest(s)),
  diff: (s, facts, ctx) => diffManagedFile('systemd_unit', managed(s), facts, ctx),
  apply(change, ctx) {
    const f = change.spec;
    const lines: Sh[] = [];
    const dir = f.dest.slice(0, f.dest.lastIndexOf('/'));
    if (f.state !== 'absent' && dir !== UNIT_DIR) {
      // A drop-in: its NAME.d directory may not exist yet.
      lines.push(sh`if [ ! -d ${dir} ]; then mkdir -p -- ${dir} || return 1; fi`);
    }
    // _C is this step's "changed" flag: keep whatever was set, learn whether _put set it.
    lines.push(sh`_C0=\${_C:-0}; _C=0`, chompSh(putFileFragment(f, ctx)), sh`_rc=$?`);
    lines.push(sh`if [ "$_C" = 1 ]; then _DR=1; fi`, sh`[ "$_C0" = 1 ] && _C=1`, sh`return "$_rc"`);
    return joinSh(lines);
  },
  managedFile: (change) => change.spec,
};
