/**
 * YAML as Ansible's `to_yaml` / `to_nice_yaml` write it (PyYAML's emitter): keys sorted,
 * lists inside maps not indented (`key:\n- a`), `-   ` before a map in a list at indent 4,
 * scalars plain unless they would read back as another type or hold indicators (then
 * single-quoted; double-quoted for control characters), long scalars folded at 80 columns.
 *   to_yaml      : default_flow_style=None, indent 2 (collections of scalars inline)
 *   to_nice_yaml : block style, indent 4
 * Covers plain data (maps, lists, strings, numbers, booleans, null).
 */
import { parse } from 'yaml';
import { arg, FilterError, isMap, splitArgs } from './args.js';
import { pyJsonDumps } from './json.js';
import { pyNumber } from './python-str.js';

const IMPLICIT = [
  /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
  /^(?:<<|=|~|null|Null|NULL|)$/,
  /^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$/,
];

interface Style {
  indent: number;
  /** PyYAML default_flow_style=None: a collection of scalars only is written inline. */
  flowLeaves: boolean;
}

const WIDTH = 80;

function plainAllowed(s: string, flow: boolean): boolean {
  if (IMPLICIT.some((re) => re.test(s))) return false;
  if (/^[\s]|[\s]$/.test(s) || /[\n\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(s)) return false;
  if (/^[#,[\]{}&*!|>'"%@`]/.test(s) || /^[-?:](\s|$)/.test(s)) return false;
  if (/: |:$| #/.test(s)) return false;
  if (flow && /[,?[\]{}]/.test(s)) return false;
  return true;
}

/** Writes words, breaking at a single space once past the width (PyYAML's write_plain/single). */
function fold(text: string, column: number, indent: string): string {
  let out = '';
  let col = column;
  const words = text.split(' ');
  words.forEach((w, i) => {
    if (i > 0) {
      if (col > WIDTH && w !== '' && words[i - 1] !== '' && i < words.length) {
        out += `\n${indent}`;
        col = indent.length;
      } else {
        out += ' ';
        col += 1;
      }
    }
    out += w;
    col += w.length;
  });
  return out;
}

function scalar(v: unknown, column: number, indent: string, flow: boolean, simpleKey = false): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : pyNumber(v).replace(/^(\d+)e/, '$1.0e');
  const s = String(v);
  if (/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(s)) return pyJsonDumps(s, { ensureAscii: false });
  if (plainAllowed(s, flow)) return simpleKey ? s : fold(s, column, indent);
  if (s.includes('\n')) {
    // Single-quoted, each line break written as an empty line plus the indent.
    const body = s.replace(/'/g, "''").split('\n').map((l, i) => (i === 0 ? l : `${indent}${l}`));
    return `'${body.join('\n\n')}'`;
  }
  const q = s.replace(/'/g, "''");
  return simpleKey ? `'${q}'` : `'${fold(q, column + 1, indent)}'`;
}

const isLeaf = (v: unknown): boolean => !Array.isArray(v) && !isMap(v);

function flowCollection(v: unknown[] | Record<string, unknown>, column: number, indent: string): string {
  if (Array.isArray(v)) return `[${v.map((x) => scalar(x, column, indent, true)).join(', ')}]`;
  return `{${Object.keys(v).sort().map((k) => `${scalar(k, column, indent, true, true)}: ${scalar(v[k], column, indent, true)}`).join(', ')}}`;
}

/** `v` written at `depth` spaces, starting at `column` on the current line. */
function node(v: unknown, depth: number, column: number, st: Style): string {
  const indent = ' '.repeat(depth);
  if (isLeaf(v)) return scalar(v, column, ' '.repeat(depth), false);
  const coll = v as unknown[] | Record<string, unknown>;
  const empty = Array.isArray(coll) ? coll.length === 0 : Object.keys(coll).length === 0;
  if (empty) return Array.isArray(coll) ? '[]' : '{}';
  if (st.flowLeaves && (Array.isArray(coll) ? coll : Object.values(coll)).every(isLeaf)) return flowCollection(coll, column, indent);
  const lines: string[] = [];
  if (Array.isArray(coll)) {
    for (const item of coll) {
      if (isLeaf(item)) {
        lines.push(`${indent}- ${scalar(item, depth + 2, ' '.repeat(depth + st.indent), false)}`);
        continue;
      }
      const inner = node(item, depth + st.indent, depth + st.indent, st);
      const flow = inner.startsWith('[') || inner.startsWith('{');
      lines.push(flow ? `${indent}- ${inner}` : `${indent}-${' '.repeat(st.indent - 1)}${inner.trimStart()}`);
    }
  } else {
    for (const k of Object.keys(coll).sort()) {
      const key = scalar(k, column, indent, false, true);
      const val = coll[k];
      if (isLeaf(val)) {
        lines.push(`${indent}${key}: ${scalar(val, depth + key.length + 2, ' '.repeat(depth + st.indent), false)}`);
        continue;
      }
      // A list in a map is not indented (PyYAML's indentless sequence); a map is.
      const inner = node(val, Array.isArray(val) ? depth : depth + st.indent, 0, st);
      const flow = inner.startsWith('[') || inner.startsWith('{');
      lines.push(flow ? `${indent}${key}: ${inner}` : `${indent}${key}:\n${inner}`);
    }
  }
  return lines.join('\n');
}

export function pyYamlDump(value: unknown, st: Style): string {
  return `${node(value, 0, 0, st)}\n`;
}

export const yamlFilters = {
  to_yaml(value: unknown, ...rest: unknown[]): string {
    const indent = Number(arg(splitArgs(rest), -1, 'indent', 2));
    return pyYamlDump(value, { indent, flowLeaves: true });
  },
  to_nice_yaml(value: unknown, ...rest: unknown[]): string {
    const indent = Number(arg(splitArgs(rest), 0, 'indent', 4));
    return pyYamlDump(value, { indent, flowLeaves: false });
  },
  from_yaml(value: unknown): unknown {
    try {
      return parse(String(value));
    } catch (e) {
      throw new FilterError(`from_yaml: ${(e as Error).message.split('\n')[0]}`);
    }
  },
};
