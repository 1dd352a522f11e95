/**
 * Ansible's INI inventory: `[group]` host lines with inline `key=value` vars,
 * `[group:vars]`, `[group:children]`, host ranges. Inline values are Python literals
 * (`8080` a number, `True` a boolean, quotes removed); `:vars` values are strings, as
 * Ansible documents.
 */
import { addHost, emptyInventory, expandHostPattern, groupOf, type AnsibleInventory } from './model.js';

/** Splits `a=1 b="x y"` the way shlex does (quotes group, are removed). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /(?:[^\s"']+|"(?:\\.|[^"])*"|'[^']*')+/g;
  for (const m of line.matchAll(re)) out.push(m[0]);
  return out;
}

function unquote(s: string): string {
  return s.replace(/"((?:\\.|[^"])*)"|'([^']*)'/g, (_m, d: string | undefined, q: string | undefined) => (d !== undefined ? d.replace(/\\(.)/g, '$1') : q!));
}

/** ast.literal_eval for the scalars inventories hold; anything else stays a string. */
function literal(raw: string): unknown {
  if (/^[-+]?\d+$/.test(raw)) return Number(raw);
  if (/^[-+]?\d*\.\d+$/.test(raw)) return Number(raw);
  if (raw === 'True' || raw === 'False') return raw === 'True';
  if (raw === 'None') return null;
  return unquote(raw);
}

export function parseIni(text: string, file: string): AnsibleInventory {
  const inv = emptyInventory();
  let section = 'ungrouped';
  let kind: 'hosts' | 'vars' | 'children' = 'hosts';
  text.split(/\r?\n/).forEach((rawLine, i) => {
    const line = rawLine.replace(/^\s+|\s+$/g, '');
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const head = /^\[([^\]:]+)(?::(vars|children))?\]$/.exec(line);
    if (head) {
      section = head[1]!;
      kind = (head[2] as 'vars' | 'children' | undefined) ?? 'hosts';
      groupOf(inv, section);
      return;
    }
    const where = `${file}:${i + 1}`;
    if (kind === 'children') {
      const g = groupOf(inv, section);
      if (!g.children.includes(line)) g.children.push(line);
      groupOf(inv, line);
    } else if (kind === 'vars') {
      const eq = line.indexOf('=');
      if (eq === -1) return void inv.notes.push(`${where}: not a key=value line in [${section}:vars]: ${line}`);
      groupOf(inv, section).vars[line.slice(0, eq).trim()] = unquote(line.slice(eq + 1).trim());
    } else {
      const [pattern, ...assignments] = words(line.replace(/\s+#.*$/, ''));
      const vars: Record<string, unknown> = {};
      for (const a of assignments) {
        const eq = a.indexOf('=');
        if (eq === -1) inv.notes.push(`${where}: ignored \`${a}\` (not key=value)`);
        else vars[a.slice(0, eq)] = literal(a.slice(eq + 1));
      }
      for (const host of expandHostPattern(pattern!)) addHost(inv, section, host, vars);
    }
  });
  return inv;
}
