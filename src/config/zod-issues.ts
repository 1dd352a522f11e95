/**
 * zod issues -> ConfigErrors with positions and the same friendly wording everywhere:
 * "unknown key `prot` (did you mean `port`?)", "expected a list of strings, got a number",
 * "missing required key `address`". Values are never echoed except numbers (secrets are
 * strings), so a message cannot leak a secret.
 *
 * Schemas may carry a custom error (`z.string({ error: 'expected a user name' })`): it is
 * used as the "expected ..." part and completed with what was found.
 */
import type { z } from 'zod';
import { ConfigError, type SourcePos } from './errors.js';
import { didYouMean } from './suggest.js';

type Path = (string | number)[];
type PosFn = (path: Path, at?: 'key' | 'value') => SourcePos;

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean (true or false)',
  array: 'a list',
  object: 'a map',
  record: 'a map',
  null: 'null',
  bigint: 'an integer',
};

/** What a value is, in words, without the value itself (except numbers). */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty value (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'number') return Number.isFinite(v) ? `the number ${v}` : 'a number';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'boolean') return 'a boolean';
  if (typeof v === 'object') return 'a map';
  return `a ${typeof v}`;
}

function isDefaultMessage(message: string): boolean {
  return /^(Invalid|Too (big|small)|Unrecognized key|Expected|Unexpected)/.test(message);
}

/**
 * Hint for a number where a string was needed: YAML 1.2 reads `0644` as the number 644,
 * so a file mode or any zero-padded value must be quoted.
 */
export function numberForStringHint(raw: string | undefined, input: unknown): string | undefined {
  if (typeof input !== 'number') return undefined;
  if (raw !== undefined && /^0[0-7]+$/.test(raw)) {
    return `YAML reads ${raw} as the number ${input}; quote it: "${raw}"`;
  }
  // YAML 1.2's own octal (`0o755`) is a number too, and "0o755" is no valid mode: '0755' is.
  if (raw !== undefined && /^0o[0-7]+$/i.test(raw)) {
    return `YAML reads ${raw} as the number ${input}; write it as a quoted octal string: '0${raw.slice(2)}'`;
  }
  return `quote it if you mean the string: "${raw ?? String(input)}"`;
}

/**
 * Hint for a string where a number or a boolean was needed: quotes make YAML read a string,
 * and YAML 1.2 reads `yes`/`no`/`on`/`off` as strings too.
 */
export function stringForScalarHint(expected: string, input: unknown): string | undefined {
  if (typeof input !== 'string') return undefined;
  if (expected === 'boolean') return 'write true or false, without quotes (YAML 1.2 reads yes/no/on/off as strings)';
  if (expected === 'number' || expected === 'int') return 'write the number without quotes';
  return undefined;
}

export function zodIssuesToConfigErrors(
  issues: readonly z.core.$ZodIssue[],
  posOf: PosFn,
  validKeysAt?: (path: Path) => string[] | undefined,
  rawAt?: (path: Path) => string | undefined,
): ConfigError[] {
  const out: ConfigError[] = [];
  const merged = mergeMisspeltRequired(issues, posOf);
  for (const issue of issues) {
    if (merged.skip.has(issue)) continue;
    out.push(...(merged.replace.get(issue) ?? convert(issue, [], posOf, validKeysAt, rawAt)));
  }
  return out;
}

const pathKey = (p: readonly PropertyKey[]): string => JSON.stringify(p.map(String));

/**
 * `cmd:` written for the required `command:` gives zod two issues (unknown `cmd`, missing
 * `command`): one error says it better, at the misspelt key, whatever the distance.
 */
function mergeMisspeltRequired(issues: readonly z.core.$ZodIssue[], posOf: PosFn): { skip: Set<z.core.$ZodIssue>; replace: Map<z.core.$ZodIssue, ConfigError[]> } {
  const skip = new Set<z.core.$ZodIssue>();
  const replace = new Map<z.core.$ZodIssue, ConfigError[]>();
  const missing = issues.filter((i) => i.code === 'invalid_type' && (i as { input?: unknown }).input === undefined && i.path.length > 0);
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys' || issue.keys.length !== 1) continue;
    const here = missing.filter((m) => pathKey(m.path.slice(0, -1)) === pathKey(issue.path));
    if (here.length !== 1) continue;
    const wanted = String(here[0]!.path[here[0]!.path.length - 1]);
    const key = issue.keys[0]!;
    skip.add(here[0]!);
    replace.set(issue, [new ConfigError(`unknown key \`${key}\``, posOf([...(issue.path as Path), key], 'key'), `did you mean \`${wanted}\`? it is required here`)]);
  }
  return { skip, replace };
}

function convert(
  issue: z.core.$ZodIssue,
  prefix: Path,
  posOf: PosFn,
  validKeysAt: ((path: Path) => string[] | undefined) | undefined,
  rawAt: ((path: Path) => string | undefined) | undefined,
): ConfigError[] {
  const path: Path = [...prefix, ...(issue.path as Path)];
  const custom = isDefaultMessage(issue.message) ? undefined : issue.message;
  const input = (issue as { input?: unknown }).input;
  const last = path[path.length - 1];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const valid = validKeysAt?.(path) ?? [];
      return issue.keys.map((key) => {
        const hint = didYouMean(key, valid) ?? (valid.length > 0 ? `valid keys: ${valid.join(', ')}` : undefined);
        return new ConfigError(`unknown key \`${key}\``, posOf([...path, key], 'key'), hint);
      });
    }
    case 'invalid_type': {
      if (input === undefined && typeof last === 'string') {
        return [new ConfigError(`missing required key \`${last}\``, posOf(path.slice(0, -1)))];
      }
      if (path.length === 0 && (issue.expected === 'object' || issue.expected === 'record') && typeof input !== 'object') {
        // The whole file is one scalar: not a config file at all, or one line of one.
        return [new ConfigError(`this file is not a YAML map of \`key: value\` entries: it reads as ${describeValue(input)}`, posOf(path), 'is this the right file?')];
      }
      const expected = custom ?? `expected ${EXPECTED[issue.expected] ?? issue.expected}`;
      const hint = issue.expected === 'string' ? numberForStringHint(rawAt?.(path), input) : stringForScalarHint(issue.expected, input);
      return [new ConfigError(`${expected}, got ${describeValue(input)}`, posOf(path), hint)];
    }
    case 'invalid_union':
      return unionErrors(issue, path, input, custom, posOf, validKeysAt, rawAt);
    case 'invalid_value': {
      const allowed = issue.values.map((v) => String(v));
      const hint = typeof input === 'string' ? didYouMean(input, allowed) : undefined;
      return [new ConfigError(custom ?? `expected one of ${allowed.join(', ')}, got ${describeValue(input)}`, posOf(path), hint)];
    }
    case 'too_small':
    case 'too_big':
      return [new ConfigError(`${custom ?? sizeExpected(issue)}, got ${describeValue(input)}`, posOf(path))];
    case 'invalid_format':
      return [new ConfigError(custom ?? `expected a valid ${issue.format}`, posOf(path))];
    case 'not_multiple_of':
      return [new ConfigError(custom ?? `expected a multiple of ${String(issue.divisor)}`, posOf(path))];
    case 'invalid_key':
      return [new ConfigError(custom ?? `invalid key \`${String(last)}\``, posOf(path, 'key'))];
    case 'invalid_element':
      return issue.issues.flatMap((i) => convert(i, path, posOf, validKeysAt, rawAt));
    default:
      return [new ConfigError(issue.message, posOf(path))];
  }
}

/** A union: the inner error of a branch that matched, the union's own message, the types expected, or the closest branch's errors. */
function unionErrors(
  issue: z.core.$ZodIssueInvalidUnion,
  path: Path,
  input: unknown,
  custom: string | undefined,
  posOf: PosFn,
  validKeysAt: ((path: Path) => string[] | undefined) | undefined,
  rawAt: ((path: Path) => string | undefined) | undefined,
): ConfigError[] {
  // A branch whose type matched but failed inside (`[a, 5]` for a list of strings)
  // explains the problem better than the union's summary.
  const inner = issue.errors.find((b) => b.length > 0 && b.every((i) => i.path.length > 0));
  if (inner) return inner.flatMap((i) => convert(i, path, posOf, validKeysAt, rawAt));
  if (custom) {
    const hint = /\bstring/.test(custom) ? numberForStringHint(rawAt?.(path), input) : undefined;
    return [new ConfigError(`${custom}, got ${describeValue(input)}`, posOf(path), hint)];
  }
  const branches = issue.errors;
  const rootTypes = branches.every((b) => b.length === 1 && b[0]!.code === 'invalid_type' && b[0]!.path.length === 0);
  if (rootTypes && branches.length > 0) {
    const names = branches.map((b) => {
      const e = b[0] as z.core.$ZodIssueInvalidType;
      return EXPECTED[e.expected] ?? e.expected;
    });
    return [new ConfigError(`expected ${names.join(' or ')}, got ${describeValue(input)}`, posOf(path))];
  }
  // The branch that got furthest (fewest issues) explains the error best.
  const best = [...branches].sort((a, b) => a.length - b.length)[0] ?? [];
  return best.flatMap((i) => convert(i, path, posOf, validKeysAt, rawAt));
}

/** What a too-small or too-big value should have been. */
function sizeExpected(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
  const cmp = issue.code === 'too_small' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
  if (issue.origin === 'array' || issue.origin === 'set') return `expected a list with ${cmp} ${String(bound)} items`;
  if (issue.origin === 'string') return issue.code === 'too_small' && Number(bound) <= 1 ? 'expected a non-empty string' : `expected a string of length ${cmp} ${String(bound)}`;
  return `expected a number ${cmp} ${String(bound)}`;
}

