/**
 * String filters with Jinja's and Ansible's semantics: `format` (Python's %-formatting),
 * the regex family (Python patterns and replacement syntax), `quote` (shlex.quote),
 * `basename`/`dirname` (os.path), `bool`, `int` and `ternary` as Ansible defines them.
 */
import { arg, FilterError, pyTruthy, splitArgs } from './args.js';
import { pyFormat } from './format.js';
import { compile, expandReplacement } from './regex.js';

function reFlags(a: { kw: Record<string, unknown> }, global: boolean): string {
  return (global ? 'g' : '') + (a.kw.ignorecase ? 'i' : '') + (a.kw.multiline ? 'm' : '');
}

/** Python int(): optional sign, digits and underscores, surrounding blanks. */
function pyInt(s: string, base: number): number | undefined {
  const t = s.trim().replace(/_/g, '');
  const digits = base === 16 ? /^[+-]?(0x)?[0-9a-f]+$/i : base === 8 ? /^[+-]?(0o)?[0-7]+$/i : base === 2 ? /^[+-]?(0b)?[01]+$/i : /^[+-]?\d+$/;
  if (!digits.test(t)) return undefined;
  const sign = t.startsWith('-') ? -1 : 1;
  return sign * parseInt(t.replace(/^[+-]/, '').replace(/^0[xob]/i, ''), base);
}

/** Python's shlex.quote, byte for byte (Ansible's `quote`; report/redact.ts masks this form). */
export function shlexQuote(s: string): string {
  if (s === '') return "''";
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

export const stringFilters = {
  format(value: unknown, ...rest: unknown[]): string {
    const a = splitArgs(rest);
    if (a.pos.length && Object.keys(a.kw).length) throw new FilterError("format takes positional or keyword arguments, not both");
    return pyFormat(String(value), Object.keys(a.kw).length ? a.kw : a.pos);
  },
  regex_replace(value: unknown, ...rest: unknown[]): string {
    const a = splitArgs(rest);
    const re = compile(String(arg(a, 0, 'pattern', '')), reFlags(a, true));
    const replacement = String(arg(a, 1, 'replacement', ''));
    const count = Number(arg(a, 4, 'count', 0));
    let n = 0;
    return String(value ?? '').replace(re, (...m: unknown[]) => {
      const groups = typeof m[m.length - 1] === 'object' ? (m[m.length - 1] as Record<string, string>) : undefined;
      const match = m.slice(0, groups ? -3 : -2) as string[];
      if (count > 0 && n++ >= count) return match[0]!;
      return expandReplacement(replacement, match, groups);
    });
  },
  /** The match (or the asked groups: '\\1', '\\g<name>'); '' where Ansible gives None, which prints as ''. */
  regex_search(value: unknown, ...rest: unknown[]): unknown {
    const a = splitArgs(rest);
    const [pattern, ...refs] = a.pos;
    const m = compile(String(pattern), reFlags(a, false)).exec(String(value ?? ''));
    if (!m) return '';
    if (!refs.length) return m[0];
    return refs.map((r) => {
      const g = /^\\(?:g<(\w+)>|(\d+))$/.exec(String(r));
      if (!g) throw new FilterError(`regex_search: unknown argument \`${String(r)}\` (give '\\\\1' or '\\\\g<name>')`);
      return g[1] !== undefined ? (/^\d+$/.test(g[1]) ? m[Number(g[1])] : m.groups?.[g[1]]) : m[Number(g[2])];
    });
  },
  regex_findall(value: unknown, ...rest: unknown[]): unknown[] {
    const a = splitArgs(rest);
    const re = compile(String(arg(a, 0, 'regex', '')), reFlags(a, true));
    return [...String(value ?? '').matchAll(re)].map((m) => (m.length === 1 ? m[0] : m.length === 2 ? m[1] : m.slice(1)));
  },
  regex_escape(value: unknown): string {
    // Python's re.escape (3.7+): only special characters.
    return String(value).replace(/[.^$*+?{}[\]\\|()#&~\s-]/g, (c) => `\\${c}`);
  },
  quote(value: unknown): string {
    return shlexQuote(value === null || value === undefined ? '' : String(value));
  },
  basename(value: unknown): string {
    const s = String(value);
    return s.slice(s.lastIndexOf('/') + 1);
  },
  dirname(value: unknown): string {
    // os.path.dirname: everything before the last slash, trailing slashes stripped unless all slashes.
    const s = String(value);
    const head = s.slice(0, s.lastIndexOf('/') + 1);
    return head && !/^\/+$/.test(head) ? head.replace(/\/+$/, '') : head;
  },
  b64encode(value: unknown, ...rest: unknown[]): string {
    const enc = arg<string>(splitArgs(rest), 0, 'encoding', 'utf-8');
    return Buffer.from(String(value), enc === 'utf-16-le' ? 'utf16le' : 'utf8').toString('base64');
  },
  b64decode(value: unknown, ...rest: unknown[]): string {
    const enc = arg<string>(splitArgs(rest), 0, 'encoding', 'utf-8');
    return Buffer.from(String(value), 'base64').toString(enc === 'utf-16-le' ? 'utf16le' : 'utf8');
  },
  bool(value: unknown): boolean | null {
    if (value === null || value === undefined || typeof value === 'boolean') return (value ?? null) as boolean | null;
    const s = typeof value === 'string' ? value.toLowerCase() : value;
    return ['yes', 'on', '1', 'true', 1].includes(s as string | number);
  },
  int(value: unknown, ...rest: unknown[]): number {
    const a = splitArgs(rest);
    const fallback = arg(a, 0, 'default', 0);
    const base = Number(arg(a, 1, 'base', 10));
    if (typeof value === 'number') return Math.trunc(value);
    if (typeof value === 'boolean') return Number(value);
    if (typeof value !== 'string') return fallback;
    const n = pyInt(value, base);
    if (n !== undefined) return n;
    // Jinja then tries float(): "3.7" -> 3.
    const t = value.trim();
    return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t) ? Math.trunc(Number(t)) : fallback;
  },
  ternary(value: unknown, ...rest: unknown[]): unknown {
    const a = splitArgs(rest);
    const noneVal = arg(a, 2, 'none_val', undefined);
    if (value === null && noneVal !== undefined) return noneVal;
    return pyTruthy(value) ? arg(a, 0, 'true_val', undefined) : arg(a, 1, 'false_val', undefined);
  },
  mandatory(value: unknown, ...rest: unknown[]): unknown {
    if (value === undefined) throw new FilterError(String(arg(splitArgs(rest), 0, 'msg', 'Mandatory variable not defined.')));
    return value;
  },
  /** Jinja 3's indent(width=4, first=False, blank=False); nunjucks' takes no keywords. */
  indent(value: unknown, ...rest: unknown[]): string {
    const a = splitArgs(rest);
    const w = arg<number | string>(a, 0, 'width', 4);
    const pad = typeof w === 'number' ? ' '.repeat(w) : w;
    const first = pyTruthy(arg(a, 1, 'first', false));
    const blank = pyTruthy(arg(a, 2, 'blank', false));
    const lines = String(value).split('\n');
    return lines.map((l, i) => ((i === 0 && first) || (i > 0 && (blank || l !== '')) ? pad + l : l)).join('\n');
  },
  splitext(value: unknown): string[] {
    const s = String(value);
    const base = s.slice(s.lastIndexOf('/') + 1);
    const dot = base.replace(/^\.+/, '').lastIndexOf('.');
    if (dot === -1) return [s, ''];
    const at = s.length - base.length + (base.length - base.replace(/^\.+/, '').length) + dot;
    return [s.slice(0, at), s.slice(at)];
  },
};
