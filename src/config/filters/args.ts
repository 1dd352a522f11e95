/**
 * nunjucks hands a filter its keyword arguments as one trailing object marked
 * `__keywords`; Jinja filters take them by name. This splits them back apart.
 */
export interface FilterArgs {
  pos: unknown[];
  kw: Record<string, unknown>;
}

export function splitArgs(args: unknown[]): FilterArgs {
  const last = args[args.length - 1];
  if (last !== null && typeof last === 'object' && (last as { __keywords?: boolean }).__keywords === true) {
    const { __keywords: _, ...kw } = last as Record<string, unknown>;
    return { pos: args.slice(0, -1), kw };
  }
  return { pos: args, kw: {} };
}

/** The argument named `name`, else the positional one at `index`, else `fallback`. */
export function arg<T>(a: FilterArgs, index: number, name: string, fallback: T): T {
  if (name in a.kw) return a.kw[name] as T;
  return index < a.pos.length && a.pos[index] !== undefined ? (a.pos[index] as T) : fallback;
}

/** A filter's failure: the template engine reports it at the filter's position. */
export class FilterError extends Error {}

/** Python's truthiness (empty list and map are false; JS calls them true). */
export function pyTruthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v !== null && typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v);
}

export function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** An iterable a Jinja filter accepts: a list, a string's characters, a map's keys. */
export function toList(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [...v];
  if (isMap(v)) return Object.keys(v);
  if (v === undefined || v === null) return [];
  throw new FilterError(`expected a list, got ${typeof v}`);
}

/** Jinja's attribute lookup: `a.b.0` walks maps and lists. */
export function attrGetter(attribute: string | number): (item: unknown) => unknown {
  const parts = String(attribute).split('.');
  return (item) => {
    let cur: unknown = item;
    for (const p of parts) {
      if (cur === null || cur === undefined) return undefined;
      cur = Array.isArray(cur) && /^\d+$/.test(p) ? cur[Number(p)] : (cur as Record<string, unknown>)[p];
    }
    return cur;
  };
}
