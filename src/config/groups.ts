/**
 * Group membership: checks `hosts` and `children` references, finds cycles, and orders
 * groups so that a parent comes before its children and unrelated groups keep file order.
 * That order is the precedence of group vars, connection settings and playbooks.
 */
import { ConfigError } from './errors.js';
import type { PosOf } from './yaml-source.js';
import { didYouMean } from './suggest.js';

export interface GroupDecl {
  hosts: string[];
  children: string[];
}

export interface GroupGraph {
  /** All groups, parents before children, otherwise file order. */
  order: string[];
  /** Host -> its groups (direct and through children), in `order`. */
  groupsOf: Map<string, string[]>;
  /** Group -> its hosts (direct and through children), in host file order. */
  members: Map<string, string[]>;
}

function listHint(kind: string, names: string[]): string {
  return names.length > 0 ? `defined ${kind}: ${names.join(', ')}` : `no ${kind} defined`;
}

export function buildGroupGraph(groups: Map<string, GroupDecl>, hostNames: string[], posOf: PosOf): { graph: GroupGraph; errors: ConfigError[] } {
  const errors: ConfigError[] = [];
  const names = [...groups.keys()];
  const hostSet = new Set(hostNames);

  for (const [group, decl] of groups) {
    if (hostSet.has(group)) {
      errors.push(new ConfigError(`group \`${group}\` has the same name as a host`, posOf(['groups', group], 'key'), 'names must be unique so that --limit is unambiguous'));
    }
    decl.hosts.forEach((h, i) => {
      if (!hostSet.has(h)) {
        const hint = didYouMean(h, hostNames);
        errors.push(new ConfigError(`unknown host \`${h}\` in group \`${group}\`; ${listHint('hosts', hostNames)}`, posOf(['groups', group, 'hosts', i]), hint));
      }
    });
    decl.children.forEach((c, i) => {
      if (!groups.has(c)) {
        const hint = didYouMean(c, names);
        errors.push(new ConfigError(`unknown group \`${c}\` in children of group \`${group}\`; ${listHint('groups', names)}`, posOf(['groups', group, 'children', i]), hint));
      }
    });
  }

  errors.push(...cycleErrors(groups, names, posOf));

  const order = errors.length > 0 ? names : topoOrder(groups, names);
  // Hosts of a group: its own plus those of its children, transitively.
  const hostsOf = new Map<string, Set<string>>();
  const collect = (g: string, seen: Set<string>): Set<string> => {
    const cached = hostsOf.get(g);
    if (cached) return cached;
    const decl = groups.get(g)!;
    const set = new Set(decl.hosts.filter((h) => hostSet.has(h)));
    seen.add(g);
    for (const c of decl.children) if (groups.has(c) && !seen.has(c)) collect(c, seen).forEach((h) => set.add(h));
    hostsOf.set(g, set);
    return set;
  };
  for (const g of names) collect(g, new Set());

  const members = new Map<string, string[]>();
  for (const g of order) members.set(g, hostNames.filter((h) => hostsOf.get(g)!.has(h)));
  const groupsOf = new Map<string, string[]>();
  for (const h of hostNames) groupsOf.set(h, order.filter((g) => hostsOf.get(g)!.has(h)));
  return { graph: { order, groupsOf, members }, errors };
}

/** Group cycles by DFS; each chain is reported once, at the child entry that closes it. */
function cycleErrors(groups: Map<string, GroupDecl>, names: string[], posOf: PosOf): ConfigError[] {
  const errors: ConfigError[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const reported = new Set<string>();
  const visit = (g: string): void => {
    state.set(g, 'visiting');
    stack.push(g);
    groups.get(g)!.children.forEach((c, i) => {
      if (!groups.has(c)) return;
      if (state.get(c) === 'visiting') {
        const chain = [...stack.slice(stack.indexOf(c)), c];
        const key = [...chain].sort().join(',');
        if (!reported.has(key)) {
          reported.add(key);
          errors.push(new ConfigError(`group cycle: ${chain.join(' -> ')}`, posOf(['groups', g, 'children', i]), 'a group cannot include itself, directly or through children'));
        }
      } else if (!state.has(c)) visit(c);
    });
    stack.pop();
    state.set(g, 'done');
  };
  for (const g of names) if (!state.has(g)) visit(g);
  return errors;
}

/** Kahn's algorithm; among ready groups the earliest in the file goes first. */
function topoOrder(groups: Map<string, GroupDecl>, names: string[]): string[] {
  const parents = new Map<string, number>(names.map((n) => [n, 0]));
  for (const decl of groups.values()) for (const c of new Set(decl.children)) if (parents.has(c)) parents.set(c, parents.get(c)! + 1);
  const done: string[] = [];
  const left = new Set(names);
  while (left.size > 0) {
    const next = names.find((n) => left.has(n) && parents.get(n) === 0);
    if (next === undefined) break; // unreachable: cycles were rejected
    left.delete(next);
    done.push(next);
    for (const c of new Set(groups.get(next)!.children)) if (parents.has(c)) parents.set(c, parents.get(c)! - 1);
  }
  return done;
}
