/**
 * List and map filters with Jinja's and Ansible's semantics: keyword arguments
 * (`sort(attribute='port')`, `map(attribute='name')`), tests by name for select/reject
 * (`select('match', '^web')`, `selectattr('port', '>', 1024)`), order kept where Python
 * keeps it, and Jinja's case-insensitive default for sort, unique, min and max.
 */
import { arg, attrGetter, FilterError, isMap, pyTruthy, splitArgs, toList } from './args.js';
import { findTest } from './tests.js';

type Filters = Record<string, (...args: never[]) => unknown>;

const sameItem = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Jinja's sort key: strings lower-cased unless case-sensitive. */
function keyOf(caseSensitive: boolean, attribute: unknown): (v: unknown) => unknown {
  const get = attribute === undefined || attribute === null ? (v: unknown) => v : attrGetter(attribute as string);
  return (v) => {
    const k = get(v);
    return !caseSensitive && typeof k === 'string' ? k.toLowerCase() : k;
  };
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compare(a[i], b[i]);
      if (c) return c;
    }
    return a.length - b.length;
  }
  if (typeof a === 'boolean' || typeof b === 'boolean') return Number(a) - Number(b);
  throw new FilterError(`cannot compare ${typeof a} with ${typeof b}`);
}

function uniqueBy(items: unknown[], key: (v: unknown) => unknown): unknown[] {
  const seen: unknown[] = [];
  const out: unknown[] = [];
  for (const item of items) {
    const k = key(item);
    if (seen.some((s) => sameItem(s, k))) continue;
    seen.push(k);
    out.push(item);
  }
  return out;
}

/** select/reject/selectattr/rejectattr share this: which items pass a named test. */
function selector(builtinTests: Record<string, unknown>, byAttr: boolean, keep: boolean) {
  return (value: unknown, ...rest: unknown[]): unknown[] => {
    const args = splitArgs(rest).pos;
    const get = byAttr ? attrGetter(args.shift() as string) : (v: unknown) => v;
    const testName = args.shift() as string | undefined;
    let test = (v: unknown): boolean => pyTruthy(v);
    if (testName !== undefined) {
      const t = findTest(testName, builtinTests);
      if (!t) throw new FilterError(`no test named \`${testName}\``);
      test = (v) => t(v, ...args);
    }
    return toList(value).filter((item) => test(get(item)) === keep);
  };
}

function flatten(items: unknown[], levels: number | undefined, skipNulls: boolean): unknown[] {
  const out: unknown[] = [];
  for (const item of items) {
    if (skipNulls && (item === null || item === 'None')) continue;
    if (Array.isArray(item) && (levels === undefined || levels > 0)) out.push(...flatten(item, levels === undefined ? undefined : levels - 1, skipNulls));
    else out.push(item);
  }
  return out;
}

type ListMerge = 'replace' | 'keep' | 'append' | 'prepend' | 'append_rp' | 'prepend_rp';

function mergeLists(a: unknown[], b: unknown[], how: ListMerge): unknown[] {
  if (how === 'keep') return a;
  if (how === 'append') return [...a, ...b];
  if (how === 'prepend') return [...b, ...a];
  if (how === 'append_rp') return [...a.filter((x) => !b.some((y) => sameItem(x, y))), ...b];
  if (how === 'prepend_rp') return [...b, ...a.filter((x) => !b.some((y) => sameItem(x, y)))];
  return b;
}

function combineTwo(a: Record<string, unknown>, b: Record<string, unknown>, recursive: boolean, how: ListMerge): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const old = out[k];
    if (recursive && isMap(old) && isMap(v)) out[k] = combineTwo(old, v, true, how);
    else if (Array.isArray(old) && Array.isArray(v)) out[k] = mergeLists(old, v, how);
    else out[k] = v;
  }
  return out;
}

export function collectionFilters(env: { filters: Record<string, unknown>; tests: Record<string, unknown> }): Filters {
  return { ...listFilters(), ...mapFilters(env) };
}

/** Order and set filters over lists: sort, unique, min, max, union..., flatten. */
function listFilters(): Filters {
  const minMax = (sign: 1 | -1) => (value: unknown, ...rest: unknown[]): unknown => {
    const a = splitArgs(rest);
    const items = toList(value);
    if (items.length === 0) return undefined;
    const key = keyOf(arg(a, 0, 'case_sensitive', false), arg(a, 1, 'attribute', undefined));
    return items.reduce((best, x) => (sign * compare(key(x), key(best)) < 0 ? x : best));
  };
  return {
    sort(value: unknown, ...rest: unknown[]): unknown[] {
      const a = splitArgs(rest);
      const key = keyOf(arg(a, 1, 'case_sensitive', false), arg(a, 2, 'attribute', undefined));
      // Python's reverse sort keeps equal items in their original order: negate, do not reverse.
      const sign = arg(a, 0, 'reverse', false) ? -1 : 1;
      return [...toList(value)].sort((x, y) => sign * compare(key(x), key(y)));
    },
    unique(value: unknown, ...rest: unknown[]): unknown[] {
      const a = splitArgs(rest);
      return uniqueBy(toList(value), keyOf(pyTruthy(arg(a, 0, 'case_sensitive', false)), arg(a, 1, 'attribute', undefined)));
    },
    min: minMax(1),
    max: minMax(-1),
    union: (a: unknown, b: unknown) => uniqueBy([...toList(a), ...toList(b)], (v) => v),
    intersect: (a: unknown, b: unknown) => uniqueBy(toList(a).filter((x) => toList(b).some((y) => sameItem(x, y))), (v) => v),
    difference: (a: unknown, b: unknown) => uniqueBy(toList(a).filter((x) => !toList(b).some((y) => sameItem(x, y))), (v) => v),
    symmetric_difference: (a: unknown, b: unknown) => {
      const la = toList(a);
      const lb = toList(b);
      return uniqueBy([...la.filter((x) => !lb.some((y) => sameItem(x, y))), ...lb.filter((x) => !la.some((y) => sameItem(x, y)))], (v) => v);
    },
    flatten(value: unknown, ...rest: unknown[]): unknown[] {
      const a = splitArgs(rest);
      const levels = arg<number | undefined>(a, 0, 'levels', undefined);
      return flatten(toList(value), levels === null ? undefined : levels, arg(a, 1, 'skip_nulls', true));
    },
  };
}

/** Filters over maps and over each item: combine, dict2items, items2dict, map, select... */
function mapFilters(env: { filters: Record<string, unknown>; tests: Record<string, unknown> }): Filters {
  return {
    combine(...all: unknown[]): Record<string, unknown> {
      const a = splitArgs(all);
      const dicts = a.pos.flatMap((d) => (Array.isArray(d) ? d : [d]));
      const recursive = Boolean(a.kw.recursive);
      const how = (a.kw.list_merge ?? 'replace') as ListMerge;
      if (!['replace', 'keep', 'append', 'prepend', 'append_rp', 'prepend_rp'].includes(how)) throw new FilterError(`combine: unknown list_merge \`${how}\``);
      return dicts.reduce<Record<string, unknown>>((acc, d) => {
        if (!isMap(d)) throw new FilterError(`combine expects maps, got ${Array.isArray(d) ? 'a list' : typeof d}`);
        return combineTwo(acc, d, recursive, how);
      }, {});
    },
    dict2items(value: unknown, ...rest: unknown[]): Record<string, unknown>[] {
      if (!isMap(value)) throw new FilterError(`dict2items requires a map, got ${Array.isArray(value) ? 'a list' : typeof value}`);
      const a = splitArgs(rest);
      const k = arg(a, 0, 'key_name', 'key');
      const v = arg(a, 1, 'value_name', 'value');
      return Object.entries(value).map(([key, val]) => ({ [k]: key, [v]: val }));
    },
    items2dict(value: unknown, ...rest: unknown[]): Record<string, unknown> {
      const a = splitArgs(rest);
      const k = arg(a, 0, 'key_name', 'key');
      const v = arg(a, 1, 'value_name', 'value');
      const out: Record<string, unknown> = {};
      for (const item of toList(value)) {
        if (!isMap(item) || !(k in item) || !(v in item)) throw new FilterError(`items2dict: each item needs \`${k}\` and \`${v}\``);
        out[String(item[k])] = item[v];
      }
      return out;
    },
    map(value: unknown, ...rest: unknown[]): unknown[] {
      const a = splitArgs(rest);
      const items = toList(value);
      if ('attribute' in a.kw) {
        const get = attrGetter(a.kw.attribute as string);
        return items.map((x) => get(x) ?? a.kw.default);
      }
      const [name, ...args] = a.pos;
      if (typeof name !== 'string') throw new FilterError('map needs a filter name or attribute=...');
      const f = env.filters[name] as ((...xs: unknown[]) => unknown) | undefined;
      if (!f) throw new FilterError(`map: no filter named \`${name}\``);
      const kw = Object.keys(a.kw).length ? [{ ...a.kw, __keywords: true }] : [];
      return items.map((x) => f(x, ...args, ...kw));
    },
    select: selector(env.tests, false, true),
    reject: selector(env.tests, false, false),
    selectattr: selector(env.tests, true, true),
    rejectattr: selector(env.tests, true, false),
  };
}
