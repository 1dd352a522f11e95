/**
 * Ansible's YAML inventory: `all:` (or any top-level group) with `hosts:`, `vars:` and
 * `children:`, nested. A vaulted value (`!vault |`) is not readable without the vault
 * password: it is reported and left out.
 */
import { parseDocument } from 'yaml';
import { addHost, emptyInventory, expandHostPattern, groupOf, type AnsibleInventory } from './model.js';

export const VAULT = Symbol('vaulted');

/** Parses YAML keeping `!vault` values as a marker instead of failing on the unknown tag. */
export function parseAnsibleYaml(text: string): unknown {
  const doc = parseDocument(text, {
    customTags: [{ tag: '!vault', resolve: () => VAULT, identify: () => false } as never, { tag: '!unsafe', resolve: (s: string) => s } as never],
  });
  if (doc.errors.length) throw new Error(doc.errors[0]!.message.split('\n')[0]);
  return doc.toJS();
}

type Raw = { hosts?: Record<string, Record<string, unknown> | null>; vars?: Record<string, unknown>; children?: Record<string, Raw | null> } | null;

export function parseYamlInventory(text: string, file: string): AnsibleInventory {
  const inv = emptyInventory();
  const data = parseAnsibleYaml(text) as Record<string, Raw> | null;
  const visit = (name: string, raw: Raw): void => {
    const g = groupOf(inv, name);
    if (!raw) return;
    Object.assign(g.vars, raw.vars ?? {});
    for (const [pattern, vars] of Object.entries(raw.hosts ?? {})) for (const h of expandHostPattern(pattern)) addHost(inv, name, h, vars ?? {});
    for (const [child, sub] of Object.entries(raw.children ?? {})) {
      if (!g.children.includes(child)) g.children.push(child);
      visit(child, sub);
    }
  };
  if (data && 'plugin' in data) {
    inv.notes.push(`${file}: an inventory plugin configuration (plugin: ${String(data.plugin)}) is dynamic: run \`ansible-inventory -i ${file} --list -y > static.yaml\` and import that`);
    return inv;
  }
  for (const [name, raw] of Object.entries(data ?? {})) visit(name, raw);
  return inv;
}
