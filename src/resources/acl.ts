/**
 * `acl`: POSIX ACL entries present on (or absent from) a path, compared with what
 * `getfacl` prints, so a converged host runs no setfacl at all.
 *
 * Entries use the canonical form getfacl prints (`user:consul:rwx`,
 * `default:user:consul:rw-`, `mask::r-x`), so a declared entry compares equal to the
 * probed one. Idempotence with masks: adding a named entry makes setfacl recompute the
 * mask, which would undo a declared `mask::` entry; so whenever entries are added, the
 * declared mask entries are passed in the same `setfacl -m` call (an explicit mask is
 * then kept). A mask narrower than an entry shows as `#effective:` in getfacl; the probe
 * strips that comment, the entry as set is what counts.
 */
import { z } from 'zod';
import { absPathSchema } from './file-common.js';
import { joinSh, sh, shVar } from './sh.js';
import type { AttrDiff, ResourceType } from './types.js';

const ENTRY_RE = /^(default:)?((user|group):([A-Za-z_][A-Za-z0-9_.-]*\$?)?|(mask|other):):([r-][w-][x-])$/;
/** For `state: absent`: a named entry, perms optional (`user:consul` or `user:consul:rwx`). */
const NAMED_RE = /^(default:)?(user|group):[A-Za-z_][A-Za-z0-9_.-]*\$?(:[r-][w-][x-])?$/;

const schema = z.strictObject({
  path: absPathSchema,
  entries: z.array(z.string()).min(1),
  state: z.enum(['present', 'absent']).default('present'),
});
export type AclSpec = z.infer<typeof schema>;

/** `user:consul:rwx` -> `user:consul` (what setfacl -x takes, and the entry's identity). */
export function aclKey(entry: string): string {
  return /:[r-][w-][x-]$/.test(entry) ? entry.slice(0, -4) : entry;
}

export function isMaskEntry(entry: string): boolean {
  return /^(default:)?mask:/.test(entry);
}

export const aclResource: ResourceType<AclSpec> = {
  kind: 'acl',
  schema,
  id: (s) => `acl ${s.path}`,
  check(s) {
    for (const e of s.entries) {
      if (s.state === 'absent') {
        if (!NAMED_RE.test(e)) {
          return `acl entry ${JSON.stringify(e)}: only named entries can be removed, e.g. \`user:consul\` or \`default:group:adm\``;
        }
      } else if (!ENTRY_RE.test(e)) {
        return (
          `acl entry ${JSON.stringify(e)}: write it the way getfacl prints it, ` +
          '`[default:](user|group):NAME:PERMS` or `[default:](user|group|mask|other)::PERMS` with PERMS in the 3-character form `rwx`, `rw-`, `r-x`... (not `rw`)'
        );
      }
    }
    const keys = s.entries.map(aclKey);
    const dup = keys.find((k, i) => keys.indexOf(k) !== i);
    return dup ? `acl entry ${dup} is given twice` : null;
  },
  facts: (s) => [{ kind: 'acl', path: s.path }],
  diff(s, facts, ctx) {
    const have = facts.acl.get(s.path) ?? null;
    const id = `acl ${s.path}`;
    const attrs: AttrDiff[] = [];
    if (s.state === 'absent') {
      if (!have) return null;
      for (const e of s.entries) {
        const found = have.entries.find((h) => aclKey(h) === aclKey(e));
        if (found) attrs.push({ field: `acl ${aclKey(e)}`, before: found, after: null });
      }
      if (!attrs.length) return null;
      return { step: ctx.step, kind: 'acl', id, action: 'delete', reason: `entries present: ${attrs.map((a) => a.before).join(', ')}`, attrs, spec: s };
    }
    for (const e of s.entries) {
      if (have?.entries.includes(e)) continue;
      const old = have?.entries.find((h) => aclKey(h) === aclKey(e)) ?? null;
      attrs.push({ field: `acl ${aclKey(e)}`, before: old, after: e });
    }
    if (!attrs.length) return null;
    // Missing path: a step earlier in the run may create it; apply fails if it did not.
    const reason = have ? `entries missing: ${attrs.map((a) => a.after).join(', ')}` : 'path does not exist (yet)';
    return { step: ctx.step, kind: 'acl', id, action: 'update', reason, attrs, spec: s };
  },
  apply(change) {
    const s = change.spec;
    const p = s.path;
    const lines = [
      sh`[ -e ${p} ] || { _err ${`${s.path} does not exist`}; return 1; }`,
      // One line per entry, `#effective:` comments stripped, framed by newlines.
      sh`_acl=$(getfacl -p -- ${p} | sed 's/[[:space:]]*#.*$//') || return 1`,
      sh`_acl="\n$_acl\n"`,
      sh`_s=''; _sm=''`,
    ];
    if (s.state === 'absent') {
      for (const e of s.entries) {
        const k = aclKey(e);
        lines.push(sh`case "$_acl" in *"\n"${`${k}:`}???"\n"*) _s="$_s,"${k} ;; esac`);
      }
      lines.push(sh`if [ -n "$_s" ]; then setfacl -x "\${_s#,}" -- ${p} || return 1; _changed; fi`);
      return joinSh(lines);
    }
    const masks = s.entries.filter(isMaskEntry);
    for (const e of s.entries) {
      const v = shVar(isMaskEntry(e) ? '_sm' : '_s');
      lines.push(sh`case "$_acl" in *"\n"${e}"\n"*) ;; *) ${v}="$${v},"${e} ;; esac`);
    }
    // Adding entries recomputes the mask: pass every declared mask along (see above).
    const allMasks = masks.length ? sh`,${masks.join(',')}` : sh``;
    lines.push(
      sh`if [ -n "$_s" ]; then _s="$_s"${allMasks}; else _s="$_sm"; fi`,
      sh`if [ -n "$_s" ]; then setfacl -m "\${_s#,}" -- ${p} || return 1; _changed; fi`,
    );
    return joinSh(lines);
  },
};
