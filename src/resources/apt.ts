/**
 * `apt`: Debian packages present (optionally pinned with `name=version`) or absent.
 * Facts: one dpkg-query line per package and the age of apt's lists. The apply fragment
 * re-checks with dpkg-query on the host (an earlier step may have installed a package),
 * refreshes the lists only when they are older than `cache_max_age` (or missing, or when
 * apt does not know a package yet: then it updates once and retries), and installs
 * non-interactively keeping locally modified config files.
 */
import { z } from 'zod';
import { APT_LISTS_DIR } from './facts/apt-lists.js';
import { DPKG_QUERY_FORMAT, isInstalled } from './facts/package.js';
import { joinSh, sh, type Sh } from './sh.js';
import type { AttrDiff, ResourceType } from './types.js';

/** Debian policy 5.6.1 (name) and 5.6.12 (version): nothing a shell could interpret. */
const PACKAGE_RE = /^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$/;

const schema = z.strictObject({
  packages: z
    .array(z.string().regex(PACKAGE_RE, 'not a Debian package name: use lowercase letters, digits, `+`, `-` and `.`, optionally pinned as `name=version`'))
    .min(1),
  state: z.enum(['present', 'absent']).default('present'),
  cache_max_age: z.number().int().nonnegative().default(86400),
});
export type AptSpec = z.infer<typeof schema>;

/** What diff hands to apply: the lists' age as probed (for the reason only). */
export interface AptChangeData {
  listsAge: number | null;
}

export function splitPackage(p: string): { name: string; version: string | null } {
  const i = p.indexOf('=');
  return i < 0 ? { name: p, version: null } : { name: p.slice(0, i), version: p.slice(i + 1) };
}

function formatAge(s: number): string {
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 86400 * 2) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

const INSTALL =
  sh`DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-confdef`;
const REMOVE = sh`DEBIAN_FRONTEND=noninteractive apt-get remove -y -q`;

/** sh: sets `_need` to the packages (as written) that are not installed as wanted. */
function recheck(packages: string[], absent: boolean): Sh {
  const names = [...new Set(packages.map((p) => splitPackage(p).name))];
  // awk compares strings exactly (names hold `.` and `+`, regex metacharacters for grep).
  const awk = absent
    ? `{ if ($2 !~ /^.[nc]/) v[$1]=1 } END { n=split(want, w, " "); for (i=1;i<=n;i++) if (w[i] in v) printf "%s ", w[i] }`
    : `{ if ($2 ~ /^[ih]i/) v[$1]=$3 } END { n=split(want, w, " "); for (i=1;i<=n;i++) { split(w[i], p, "="); if (!(p[1] in v) || (p[2] != "" && v[p[1]] != p[2])) printf "%s ", w[i] } }`;
  const want = absent ? names : packages;
  return sh`_need=$(dpkg-query -W -f=${DPKG_QUERY_FORMAT} -- ${names} 2>/dev/null | awk -F '\\t' -v want=${want.join(' ')} ${awk})`;
}

function installFragment(s: AptSpec): Sh {
  const pinned = s.packages.some((p) => p.includes('='));
  const maxAge = s.cache_max_age;
  return joinSh([
    recheck(s.packages, false),
    sh`[ -n "$_need" ] || return 0`,
    // Fresh when some list exists and the lists (or partial/, touched by every update) are
    // newer than now - cache_max_age. See facts/apt-lists.ts.
    sh`_fresh=$(find ${APT_LISTS_DIR} -maxdepth 1 -type f -name '*_Packages*' -print -quit 2>/dev/null)`,
    sh`if [ -n "$_fresh" ]; then _fresh=$(find ${APT_LISTS_DIR} -maxdepth 1 \\( -type d -name partial -o -type f -name '*_Packages*' \\) -newermt "@$(( $(date +%s) - ${maxAge} ))" -print -quit 2>/dev/null); fi`,
    sh`_upd=0`,
    sh`if [ -z "$_fresh" ]; then`,
    sh`  _o=$(apt-get update -q 2>&1) || { printf '%s\\n' "$_o" >&2; _err 'apt-get update failed'; return 1; }`,
    sh`  _upd=1`,
    sh`fi`,
    // $_need is a list of validated package words: splitting it is intended.
    sh`_o=$(${INSTALL}${pinned ? sh` --allow-downgrades` : sh``} -- $_need 2>&1)`,
    sh`_rc=$?`,
    sh`if [ "$_rc" != 0 ] && [ "$_upd" = 0 ] && printf '%s' "$_o" | grep -Eq 'Unable to locate package|has no installation candidate|was not found'; then`,
    sh`  _o=$(apt-get update -q 2>&1) || { printf '%s\\n' "$_o" >&2; _err 'apt-get update failed'; return 1; }`,
    sh`  _o=$(${INSTALL}${pinned ? sh` --allow-downgrades` : sh``} -- $_need 2>&1)`,
    sh`  _rc=$?`,
    sh`fi`,
    sh`if [ "$_rc" != 0 ]; then printf '%s\\n' "$_o" >&2; _err "apt-get install failed: $_need"; return 1; fi`,
    sh`_changed`,
  ]);
}

function removeFragment(s: AptSpec): Sh {
  return joinSh([
    recheck(s.packages, true),
    sh`[ -n "$_need" ] || return 0`,
    sh`_o=$(${REMOVE} -- $_need 2>&1) || { printf '%s\\n' "$_o" >&2; _err "apt-get remove failed: $_need"; return 1; }`,
    sh`_changed`,
  ]);
}

export const aptResource: ResourceType<AptSpec> = {
  kind: 'apt',
  schema,
  id: (s) => `apt ${s.packages.map((p) => splitPackage(p).name).join(',')}`,
  check: (s) =>
    s.state === 'absent' && s.packages.some((p) => p.includes('='))
      ? 'a version pin (`name=version`) makes no sense with state: absent; give the bare package name'
      : null,
  facts: (s) => [...s.packages.map((p) => ({ kind: 'package' as const, name: splitPackage(p).name })), { kind: 'aptLists' as const }],
  diff(s, facts, ctx) {
    const attrs: AttrDiff[] = [];
    const missing: string[] = [];
    const wrongVersion: string[] = [];
    for (const p of s.packages) {
      const { name, version } = splitPackage(p);
      const have = facts.package.get(name) ?? null;
      const installed = isInstalled(have);
      if (s.state === 'absent') {
        // Anything dpkg has unpacked (not just fully installed) is removed.
        if (have && !/^.[nc]/.test(have.status)) attrs.push({ field: `package ${name}`, before: have.version, after: null });
        continue;
      }
      if (!installed) {
        missing.push(name);
        attrs.push({ field: `package ${name}`, before: null, after: version ?? 'present' });
      } else if (version !== null && have!.version !== version) {
        wrongVersion.push(name);
        attrs.push({ field: `package ${name}`, before: have!.version, after: version });
      }
    }
    if (attrs.length === 0) return null;
    const data: AptChangeData = { listsAge: facts.aptListsAge };
    const id = aptResource.id(s);
    if (s.state === 'absent') {
      const names = attrs.map((a) => a.field.slice('package '.length));
      return { step: ctx.step, kind: 'apt', id, action: 'delete', reason: `installed: ${names.join(', ')}`, attrs, spec: s, data };
    }
    const parts: string[] = [];
    if (missing.length) parts.push(`not installed: ${missing.join(', ')}`);
    if (wrongVersion.length) parts.push(`version differs: ${wrongVersion.join(', ')}`);
    const age = facts.aptListsAge;
    if (age === null) parts.push('package lists missing: apt-get update first');
    else if (age > s.cache_max_age) parts.push(`package lists ${formatAge(age)} old: apt-get update first`);
    return {
      step: ctx.step,
      kind: 'apt',
      id,
      action: wrongVersion.length ? 'update' : 'create',
      reason: parts.join('; '),
      attrs,
      spec: s,
      data,
    };
  },
  apply(change) {
    const s = change.spec;
    return s.state === 'absent' ? removeFragment(s) : installFragment(s);
  },
};
