/**
 * `user`: a local account present or absent. Creation follows HashiCorp's recipe for
 * service accounts (`useradd --system --user-group --shell /bin/false consul`): without a
 * `group`, or with `group` equal to the name, the user gets its own group, created unless
 * it already exists. For an existing account, shell, home, uid, comment, primary group and
 * supplementary membership are converged with usermod; membership is additive (the user is
 * added to `groups`, never removed from others). The apply fragment re-reads the account
 * with getent first: a package installed earlier in the run may have created it.
 */
import { z } from 'zod';
import { absPathSchema, nameSchema } from './file-common.js';
import { joinSh, sh, type Sh } from './sh.js';
import type { AttrDiff, Facts, ResourceType } from './types.js';
import type { PasswdEntry } from './facts/types.js';

/** `:` and newlines would corrupt /etc/passwd; useradd refuses them too, less clearly. */
const passwdField = (what: string) => z.string().refine((v) => !/[:\n]/.test(v), `${what} must not contain ':' or a newline`);

const schema = z.strictObject({
  name: nameSchema,
  system: z.boolean().default(false),
  uid: z.number().int().nonnegative().optional(),
  group: nameSchema.optional(),
  groups: z.array(nameSchema).optional(),
  home: absPathSchema.and(passwdField('home')).optional(),
  shell: absPathSchema.and(passwdField('shell')).optional(),
  create_home: z.boolean().optional(),
  comment: passwdField('comment').optional(),
  state: z.enum(['present', 'absent']).default('present'),
});
export type UserSpec = z.infer<typeof schema>;

/** The group whose name is `gid`'s, among the probed ones, for a readable diff. */
function groupName(facts: Facts, gid: number): string {
  for (const g of facts.group.values()) if (g && g.gid === gid) return g.name;
  return `gid ${gid}`;
}

/** Attribute differences of an existing account (pure). */
export function userAttrDiffs(s: UserSpec, have: PasswdEntry, facts: Facts): AttrDiff[] {
  const out: AttrDiff[] = [];
  if (s.uid !== undefined && have.uid !== s.uid) out.push({ field: 'uid', before: String(have.uid), after: String(s.uid) });
  if (s.group !== undefined) {
    const want = facts.group.get(s.group) ?? null;
    // A group missing from the probe may be created by an earlier step: a difference.
    if (!want || want.gid !== have.gid) out.push({ field: 'group', before: groupName(facts, have.gid), after: s.group });
  }
  for (const g of s.groups ?? []) {
    const entry = facts.group.get(g) ?? null;
    const member = !!entry && (entry.members.includes(s.name) || entry.gid === have.gid);
    if (!member) out.push({ field: `member of ${g}`, before: 'no', after: 'yes' });
  }
  if (s.home !== undefined && have.home !== s.home) out.push({ field: 'home', before: have.home, after: s.home });
  if (s.shell !== undefined && have.shell !== s.shell) out.push({ field: 'shell', before: have.shell, after: s.shell });
  if (s.comment !== undefined && have.gecos !== s.comment) out.push({ field: 'comment', before: have.gecos, after: s.comment });
  return out;
}

function createFragment(s: UserSpec): Sh {
  const n = s.name;
  const args: string[] = [];
  if (s.system) args.push('--system');
  if (s.uid !== undefined) args.push('--uid', String(s.uid));
  if (s.groups?.length) args.push('--groups', s.groups.join(','));
  if (s.home !== undefined) args.push('--home-dir', s.home);
  if (s.shell !== undefined) args.push('--shell', s.shell);
  if (s.comment !== undefined) args.push('--comment', s.comment);
  if (s.create_home === true) args.push('--create-home');
  if (s.create_home === false) args.push('--no-create-home');
  const own = s.group === undefined || s.group === s.name;
  // --user-group fails when the group exists already (a `group` step, a package): join it.
  const primary = own
    ? sh`if getent group ${n} >/dev/null; then set -- --gid ${n}; else set -- --user-group; fi`
    : sh`set -- --gid ${s.group!}`;
  return joinSh([primary, sh`useradd "$@" ${args} ${n} || return 1`, sh`_changed`]);
}

function updateFragment(s: UserSpec): Sh {
  const n = s.name;
  const lines = [
    sh`IFS=: read -r _n _x _uid _gid _gecos _home _shell <<_U_EOF`,
    sh`$_pw`,
    sh`_U_EOF`,
    sh`set --`,
  ];
  if (s.uid !== undefined) lines.push(sh`[ "$_uid" = ${s.uid} ] || set -- "$@" --uid ${s.uid}`);
  if (s.group !== undefined) {
    lines.push(
      sh`_g=$(getent group ${s.group}) || { _err ${`group ${s.group} does not exist`}; return 1; }`,
      sh`_g=\${_g#*:}; _g=\${_g#*:}; _g=\${_g%%:*}`,
      sh`[ "$_gid" = "$_g" ] || set -- "$@" --gid ${s.group}`,
    );
  }
  if (s.home !== undefined) lines.push(sh`[ "$_home" = ${s.home} ] || set -- "$@" --home ${s.home}`);
  if (s.shell !== undefined) lines.push(sh`[ "$_shell" = ${s.shell} ] || set -- "$@" --shell ${s.shell}`);
  if (s.comment !== undefined) lines.push(sh`[ "$_gecos" = ${s.comment} ] || set -- "$@" --comment ${s.comment}`);
  if (s.groups?.length) {
    // id -nG lists the primary group too: a user whose primary group is `adm` is in `adm`.
    lines.push(sh`_in=" $(id -nG ${n}) "`, sh`_add=''`);
    for (const g of s.groups) lines.push(sh`case "$_in" in *' '${g}' '*) ;; *) _add="$_add,"${g} ;; esac`);
    lines.push(sh`[ -z "$_add" ] || set -- "$@" --append --groups "\${_add#,}"`);
  }
  lines.push(sh`if [ $# -gt 0 ]; then usermod "$@" ${n} || return 1; _changed; fi`);
  return joinSh(lines);
}

export const userResource: ResourceType<UserSpec> = {
  kind: 'user',
  schema,
  id: (s) => `user ${s.name}`,
  facts: (s) => [
    { kind: 'passwd', name: s.name },
    ...[...new Set([...(s.group ? [s.group] : []), ...(s.groups ?? [])])].map((g) => ({ kind: 'group' as const, name: g })),
  ],
  diff(s, facts, ctx) {
    const have = facts.passwd.get(s.name) ?? null;
    const id = `user ${s.name}`;
    if (s.state === 'absent') {
      if (!have) return null;
      return { step: ctx.step, kind: 'user', id, action: 'delete', reason: 'exists and must be absent', attrs: [{ field: 'uid', before: String(have.uid), after: null }], spec: s };
    }
    if (!have) {
      const attrs: AttrDiff[] = [{ field: 'user', before: null, after: s.name }];
      if (s.uid !== undefined) attrs.push({ field: 'uid', before: null, after: String(s.uid) });
      attrs.push({ field: 'group', before: null, after: s.group ?? s.name });
      if (s.groups?.length) attrs.push({ field: 'groups', before: null, after: s.groups.join(',') });
      if (s.home !== undefined) attrs.push({ field: 'home', before: null, after: s.home });
      if (s.shell !== undefined) attrs.push({ field: 'shell', before: null, after: s.shell });
      return { step: ctx.step, kind: 'user', id, action: 'create', reason: 'does not exist', attrs, spec: s };
    }
    const attrs = userAttrDiffs(s, have, facts);
    if (attrs.length === 0) return null;
    return { step: ctx.step, kind: 'user', id, action: 'update', reason: attrs.map((a) => `${a.field} differs`).join(', '), attrs, spec: s };
  },
  apply(change) {
    const s = change.spec;
    const n = s.name;
    if (s.state === 'absent') return sh`if getent passwd ${n} >/dev/null; then userdel ${n} || return 1; _changed; fi`;
    return joinSh([sh`_pw=$(getent passwd ${n})`, sh`if [ -z "$_pw" ]; then`, createFragment(s), sh`else`, updateFragment(s), sh`fi`]);
  },
};
