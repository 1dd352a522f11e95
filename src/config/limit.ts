/**
 * `--limit` patterns: `lb-1,web-*,!web-3`. Each pattern is a host name, a group name or a
 * glob (`*`, `?`, `[...]`) over host and group names; `!` excludes. The result keeps
 * inventory order; with only exclusions the selection starts from every host. A pattern
 * matching nothing is an error (a typo in --limit must not silently skip hosts).
 */
import { ConfigError } from './errors.js';
import { didYouMean } from './suggest.js';

export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else if (ch === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end === -1) re += '\\[';
      else {
        const body = glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += ch.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Host names selected by `limit` among `hosts` (inventory order). */
export function selectHosts(limit: string | undefined, hosts: string[], groups: Map<string, string[]>): string[] {
  const patterns = (limit ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (patterns.length === 0) return [...hosts];
  const include = new Set<string>();
  const exclude = new Set<string>();
  let anyInclude = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = negate ? raw.slice(1).trim() : raw;
    const matched = matchPattern(pattern, hosts, groups);
    if (matched === undefined) {
      const hint = didYouMean(pattern, [...hosts, ...groups.keys()]);
      throw new ConfigError(`--limit pattern \`${raw}\` matches no host or group`, undefined, hint);
    }
    if (negate) matched.forEach((h) => exclude.add(h));
    else {
      anyInclude = true;
      matched.forEach((h) => include.add(h));
    }
  }
  return hosts.filter((h) => (anyInclude ? include.has(h) : true) && !exclude.has(h));
}

/** Hosts a single pattern names; undefined when it names no host and no group. */
function matchPattern(pattern: string, hosts: string[], groups: Map<string, string[]>): Set<string> | undefined {
  if (pattern === '') return undefined;
  const isGlob = /[*?[]/.test(pattern);
  const test = isGlob ? ((re: RegExp) => (n: string) => re.test(n))(globToRegExp(pattern)) : (n: string) => n === pattern;
  const out = new Set<string>();
  let named = false;
  for (const h of hosts) if (test(h)) { out.add(h); named = true; }
  for (const [g, members] of groups) if (test(g)) { members.forEach((h) => out.add(h)); named = true; }
  return named ? out : undefined;
}
