/**
 * `--limit` patterns: `lb-1,web-*,!web-3`. Each pattern is a host name, a group name or a
 * glob (`*`, `?`, `[...]`) over host and group names; `!` excludes. The result keeps
 * inventory order; with only exclusions the selection starts from every host. A pattern
 * matching nothing is an error (a typo in --limit must not silently skip hosts), and so
 * are an empty `--limit`, an empty item, and a selection of no host at all.
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

/**
 * Host names selected by `limit` among `hosts` (inventory order). No `--limit` at all
 * selects every host; a `--limit` that is empty, has an empty item (`a,,b`, a bare `!`) or
 * selects no host is an error: an unset shell variable (`--limit "$HOSTS"`) must never
 * widen a run to the whole fleet, nor a typo narrow it to nothing and report success.
 */
export function selectHosts(limit: string | undefined, hosts: string[], groups: Map<string, string[]>): string[] {
  if (limit === undefined) return [...hosts];
  const patterns = parseLimit(limit);
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
  const selected = hosts.filter((h) => (anyInclude ? include.has(h) : true) && !exclude.has(h));
  if (selected.length === 0) {
    const hint = exclude.size > 0 ? 'its `!` exclusions remove every host it names' : 'the groups it names have no hosts';
    throw new ConfigError(`--limit \`${limit}\` selects no host`, undefined, hint);
  }
  return selected;
}

/** The comma-separated patterns of a `--limit`; ConfigError when it is empty or has an empty item. */
function parseLimit(limit: string): string[] {
  const patterns = limit.split(',').map((p) => p.trim());
  if (patterns.every((p) => p === '')) {
    throw new ConfigError(`--limit \`${limit}\` names no host`, undefined, 'give host names, group names or globs, e.g. `--limit web-1,lb`; leave out --limit to select every host');
  }
  const bad = patterns.findIndex((p) => p === '' || p === '!' || /^!\s*$/.test(p));
  if (bad >= 0) {
    throw new ConfigError(`--limit \`${limit}\`: item ${bad + 1} is empty`, undefined, 'remove the extra comma, or give the name after `!`');
  }
  return patterns;
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
