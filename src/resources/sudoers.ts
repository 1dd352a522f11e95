/**
 * `sudoers`: a drop-in under /etc/sudoers.d, mode 0440 root:root, validated with
 * `visudo -cf` on the staged file before it is renamed into place, so a file sudo would
 * choke on (locking everyone out of sudo) is never installed. Names are checked hard:
 * sudo SILENTLY IGNORES drop-ins whose name contains `.` or ends in `~`, which would make
 * a step "succeed" while granting nothing.
 */
import { z } from 'zod';
import { diffManagedFile, fileFacts, putFileFragment, type ManagedFile, inlineOrTemplate } from './file-common.js';
import type { ResourceType } from './types.js';

export const SUDOERS_DIR = '/etc/sudoers.d';
export const VISUDO_VALIDATE = '/usr/sbin/visudo -cf %s';

const IGNORED = 'sudo silently ignores files in /etc/sudoers.d whose name contains a `.` or ends in `~`';

export const sudoersNameSchema = z.string().superRefine((name, ctx) => {
  if (name.includes('/')) ctx.addIssue({ code: 'custom', message: 'sudoers name is a file name in /etc/sudoers.d, not a path: no `/`; use e.g. `consul-haproxy-reload`' });
  else if (name.includes('.')) ctx.addIssue({ code: 'custom', message: `sudoers name must not contain '.': ${IGNORED}; use e.g. \`consul-haproxy-reload\`` });
  else if (name.endsWith('~')) ctx.addIssue({ code: 'custom', message: `sudoers name must not end in '~': ${IGNORED}` });
  else if (!/^[A-Za-z0-9_-]+$/.test(name)) ctx.addIssue({ code: 'custom', message: 'sudoers name: letters, digits, `_` and `-` only' });
});

const schema = z.strictObject({
  name: sudoersNameSchema,
  content: z.string().optional(),
  src: z.string().min(1).optional(),
  state: z.enum(['present', 'absent']).default('present'),
});
export type SudoersSpec = z.infer<typeof schema>;

export function sudoersManaged(s: SudoersSpec): ManagedFile {
  return {
    dest: `${SUDOERS_DIR}/${s.name}`,
    content: Buffer.from(s.content ?? '', 'utf8'),
    mode: '0440',
    owner: 'root',
    group: 'root',
    validate: VISUDO_VALIDATE,
    state: s.state,
  };
}

export const sudoersResource: ResourceType<SudoersSpec, ManagedFile> = {
  kind: 'sudoers',
  schema,
  id: (s) => `sudoers ${SUDOERS_DIR}/${s.name}`,
  check: inlineOrTemplate.check,
  prepare: (s, ctx) => inlineOrTemplate.prepare(s, ctx),
  facts: (s) => fileFacts(`${SUDOERS_DIR}/${s.name}`),
  diff: (s, facts, ctx) => diffManagedFile('sudoers', sudoersManaged(s), facts, ctx),
  apply: (change, ctx) => putFileFragment(change.spec, ctx),
  managedFile: (change) => change.spec,
};
