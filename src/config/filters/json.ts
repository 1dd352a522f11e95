/**
 * JSON the way Python's json.dumps writes it, which is what Jinja's `tojson` and
 * Ansible's `to_json` / `to_nice_json` emit: `{"a": 1, "b": [1, 2]}` (a space after `:`
 * and `,`), non-ASCII escaped as `\uXXXX`, and with an indent, `,` at line ends.
 *   tojson       : sorted keys, `<>&'` escaped as \u003c... (HTML-safe), indent optional
 *   to_json      : keys in order, ensure_ascii
 *   to_nice_json : indent 4, sorted keys, separators (',', ': ')
 */
import { arg, FilterError, isMap, splitArgs } from './args.js';
import { pyNumber } from './python-str.js';

interface DumpOptions {
  indent?: number | string | undefined;
  sortKeys?: boolean;
  itemSep?: string;
  keySep?: string;
  ensureAscii?: boolean;
}

function quoteString(s: string, ensureAscii: boolean): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const c = s.charCodeAt(i);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || (ensureAscii && c > 0x7e)) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

export function pyJsonDumps(value: unknown, o: DumpOptions = {}): string {
  const indentUnit = o.indent === undefined || o.indent === null ? undefined : typeof o.indent === 'number' ? ' '.repeat(o.indent) : o.indent;
  const itemSep = o.itemSep ?? (indentUnit === undefined ? ', ' : ',');
  const keySep = o.keySep ?? ': ';
  const ensureAscii = o.ensureAscii ?? true;
  const walk = (v: unknown, depth: number): string => {
    if (v === null || v === undefined) return 'null';
    if (v === true) return 'true';
    if (v === false) return 'false';
    if (typeof v === 'number') return Number.isFinite(v) ? pyNumber(v) : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
    if (typeof v === 'string') return quoteString(v, ensureAscii);
    if (!Array.isArray(v) && !isMap(v)) return quoteString(String(v), ensureAscii);
    const entries: [string | undefined, unknown][] = Array.isArray(v) ? v.map((x) => [undefined, x]) : Object.entries(v);
    if (isMap(v) && o.sortKeys) entries.sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0));
    const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
    if (entries.length === 0) return open + close;
    const parts = entries.map(([k, x]) => (k === undefined ? '' : quoteString(k, ensureAscii) + keySep) + walk(x, depth + 1));
    if (indentUnit === undefined) return open + parts.join(itemSep) + close;
    const pad = '\n' + indentUnit.repeat(depth + 1);
    return open + pad + parts.join(itemSep + pad) + '\n' + indentUnit.repeat(depth) + close;
  };
  return walk(value, 0);
}

/** Jinja's htmlsafe_json_dumps: these four are escaped so the JSON can sit in HTML. */
function htmlSafe(s: string): string {
  return s.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/'/g, '\\u0027');
}

/** The forms a string takes inside `to_json` / `tojson` output (report/redact.ts masks them). */
export function jsonStringForms(s: string): string[] {
  const ascii = quoteString(s, true).slice(1, -1);
  return [ascii, quoteString(s, false).slice(1, -1), htmlSafe(ascii)];
}

export const jsonFilters = {
  tojson(value: unknown, ...rest: unknown[]): string {
    const a = splitArgs(rest);
    return htmlSafe(pyJsonDumps(value, { indent: arg(a, 0, 'indent', undefined), sortKeys: true }));
  },
  to_json(value: unknown, ...rest: unknown[]): string {
    const a = splitArgs(rest);
    return pyJsonDumps(value, {
      indent: arg(a, 0, 'indent', undefined),
      sortKeys: arg(a, -1, 'sort_keys', false),
      ensureAscii: arg(a, -1, 'ensure_ascii', true),
    });
  },
  to_nice_json(value: unknown, ...rest: unknown[]): string {
    const a = splitArgs(rest);
    return pyJsonDumps(value, {
      indent: arg(a, 0, 'indent', 4),
      sortKeys: arg(a, 1, 'sort_keys', true),
      itemSep: ',',
      ensureAscii: arg(a, -1, 'ensure_ascii', true),
    });
  },
  from_json(value: unknown): unknown {
    try {
      return JSON.parse(String(value));
    } catch (e) {
      throw new FilterError(`from_json: ${(e as Error).message}`);
    }
  },
};
