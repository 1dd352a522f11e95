/**
 * Attributes of known objects, checked before rendering where a `for` iterates them:
 * `{% for o in b.optionz %}` where `b` is a backend without `optionz` would render
 * nothing, silently. The objects are the host's vars: a chain's root is a var, or a loop
 * name whose source chain is followed (`{% for b in backends %}` -> every backend).
 *
 * Lenient where objects differ: an attribute is missing only when NO candidate object has
 * it (a list of backends where some have `servers` is fine), and a chain tested anywhere
 * (`{% if b.servers %}`, `is defined`, `| default`) may be missing (the optional idiom).
 */
import type { AttrFacts, ChainUse } from './template-names.js';

export interface MissingAttr {
  use: ChainUse;
  /** The object's path (`b`, `b.listen`) and the key it lacks. */
  owner: string;
  key: string;
  /** Keys the candidate objects do have, for "did you mean". */
  known: string[];
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The values a chain may take, given the vars and the template's loop sources. */
function candidates(chain: string[], facts: AttrFacts, vars: Record<string, unknown>, depth = 0): unknown[] {
  const [root, ...keys] = chain;
  let values: unknown[];
  const source = facts.loopSources.get(root!);
  if (source && depth < 8) values = candidates(source, facts, vars, depth + 1).flatMap((v) => (Array.isArray(v) ? v : []));
  else if (!source && !facts.bound.has(root!) && root! in vars) values = [vars[root!]];
  else return [];
  for (const key of keys) values = values.filter(isPlainObject).filter((o) => key in o).map((o) => o[key]);
  return values;
}

/** The first iterated chain with an attribute no candidate object has (and no guard allows). */
export function findMissingAttr(facts: AttrFacts, vars: Record<string, unknown>): MissingAttr | undefined {
  for (const use of facts.iterated) {
    for (let i = 1; i < use.chain.length; i++) {
      const owner = use.chain.slice(0, i);
      const key = use.chain[i]!;
      if (facts.guarded.has([...owner, key].join('.'))) break;
      const objects = candidates(owner, facts, vars).filter(isPlainObject);
      if (objects.length === 0) break; // unknown here (not a var, a `set` name, a string...)
      if (objects.some((o) => key in o)) continue;
      const known = [...new Set(objects.flatMap((o) => Object.keys(o)))];
      return { use, owner: owner.join('.'), key, known };
    }
  }
  return undefined;
}
