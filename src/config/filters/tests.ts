/**
 * Jinja's and Ansible's tests, for `select('test', ...)`, `selectattr('a', 'test', ...)`
 * and `x is test`. nunjucks has some of them under other names and lacks the operator
 * aliases (`==`, `>`, `in`) and Ansible's regex tests (`match`, `search`).
 */
import { isMap, pyTruthy } from './args.js';
import { pyRegex } from './regex.js';

export type Test = (value: unknown, ...args: unknown[]) => boolean;

const eq: Test = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const cmp = (f: (a: number | string, b: number | string) => boolean): Test => (a, b) => f(a as number, b as number);
const contains = (container: unknown, item: unknown): boolean => {
  if (typeof container === 'string') return container.includes(String(item));
  if (Array.isArray(container)) return container.some((x) => eq(x, item));
  if (isMap(container)) return String(item) in container;
  return false;
};
const reTest = (how: 'match' | 'search' | 'fullmatch'): Test => (value, pattern, ...rest) => {
  const kw = (rest.find((r) => isMap(r) && (r as { __keywords?: boolean }).__keywords) ?? {}) as Record<string, unknown>;
  const flags = (kw.ignorecase ? 'i' : '') + (kw.multiline ? 'm' : '');
  const src = how === 'match' ? `^(?:${pyRegex(String(pattern))})` : how === 'fullmatch' ? `^(?:${pyRegex(String(pattern))})$` : pyRegex(String(pattern));
  return new RegExp(src, flags).test(String(value));
};

export const TESTS: Record<string, Test> = {
  defined: (v) => v !== undefined,
  undefined: (v) => v === undefined,
  none: (v) => v === null,
  boolean: (v) => typeof v === 'boolean',
  true: (v) => v === true,
  false: (v) => v === false,
  integer: (v) => typeof v === 'number' && Number.isInteger(v),
  float: (v) => typeof v === 'number' && !Number.isInteger(v),
  number: (v) => typeof v === 'number',
  string: (v) => typeof v === 'string',
  mapping: (v) => isMap(v),
  sequence: (v) => Array.isArray(v) || typeof v === 'string' || isMap(v),
  iterable: (v) => Array.isArray(v) || typeof v === 'string' || isMap(v),
  odd: (v) => Number(v) % 2 === 1,
  even: (v) => Number(v) % 2 === 0,
  divisibleby: (v, n) => Number(v) % Number(n) === 0,
  lower: (v) => typeof v === 'string' && v === v.toLowerCase(),
  upper: (v) => typeof v === 'string' && v === v.toUpperCase(),
  truthy: (v) => pyTruthy(v),
  falsy: (v) => !pyTruthy(v),
  sameas: (a, b) => a === b,
  '==': eq,
  eq,
  equalto: eq,
  '!=': (a, b) => !eq(a, b),
  ne: (a, b) => !eq(a, b),
  '>': cmp((a, b) => a > b),
  gt: cmp((a, b) => a > b),
  greaterthan: cmp((a, b) => a > b),
  '>=': cmp((a, b) => a >= b),
  ge: cmp((a, b) => a >= b),
  '<': cmp((a, b) => a < b),
  lt: cmp((a, b) => a < b),
  lessthan: cmp((a, b) => a < b),
  '<=': cmp((a, b) => a <= b),
  le: cmp((a, b) => a <= b),
  in: (v, container) => contains(container, v),
  contains: (container, v) => contains(container, v),
  subset: (a, b) => Array.isArray(a) && a.every((x) => contains(b, x)),
  superset: (a, b) => Array.isArray(b) && b.every((x) => contains(a, x)),
  any: (v) => Array.isArray(v) && v.some(pyTruthy),
  all: (v) => Array.isArray(v) && v.every(pyTruthy),
  match: reTest('match'),
  search: reTest('search'),
  regex: reTest('search'),
};

/** A test by name (nunjucks' own as a fallback), or undefined. */
export function findTest(name: string, builtin: Record<string, unknown>): Test | undefined {
  return TESTS[name] ?? (builtin[name] as Test | undefined);
}
