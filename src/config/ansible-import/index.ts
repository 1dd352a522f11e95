/**
 * `provision import-ansible`: reads an Ansible inventory (INI or YAML, with group_vars/
 * and host_vars/ beside it or where told) and returns a provision inventory plus the
 * list of what it could not carry over. A dynamic inventory (an executable script, an
 * inventory plugin) is refused with the way to make it static.
 */
import { access, constants, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { ProvisionError } from '../errors.js';
import { parseIni } from './ini.js';
import { groupOf, type AnsibleInventory } from './model.js';
import { toProvision } from './convert.js';
import { readVarsDir } from './vars-dirs.js';
import { parseYamlInventory } from './yaml-inventory.js';

export interface ImportOptions {
  groupVars?: string;
  hostVars?: string;
}

async function isExecutable(file: string): Promise<boolean> {
  return access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
}

async function readInventory(file: string): Promise<AnsibleInventory> {
  if ((await stat(file)).isDirectory()) throw new ProvisionError('E_IMPORT', `${file} is a directory: give one inventory file (import each file of an inventory directory on its own)`);
  const text = await readFile(file, 'utf8');
  if ((await isExecutable(file)) || text.startsWith('#!')) {
    throw new ProvisionError('E_IMPORT', `${file} is a dynamic inventory script: it cannot be imported as it is (run \`ansible-inventory -i ${file} --list -y > static.yaml\` and import static.yaml)`);
  }
  const yamlish = /\.(ya?ml|json)$/.test(file) || /^\s*(all|plugin)\s*:/m.test(text);
  try {
    return yamlish ? parseYamlInventory(text, file) : parseIni(text, file);
  } catch (e) {
    throw new ProvisionError('E_IMPORT', `${file}: cannot read it as an Ansible ${yamlish ? 'YAML' : 'INI'} inventory: ${(e as Error).message}`);
  }
}

export async function importAnsible(file: string, opts: ImportOptions = {}): Promise<{ yaml: string; notes: string[] }> {
  const inv = await readInventory(file);
  const dir = path.dirname(file);
  for (const [name, vars] of await readVarsDir(opts.groupVars ?? path.join(dir, 'group_vars'), inv.notes)) {
    if (!inv.groups.has(name)) inv.notes.push(`group_vars/${name}: no group \`${name}\` in the inventory, not carried over`);
    else Object.assign(groupOf(inv, name).vars, vars);
  }
  for (const [name, vars] of await readVarsDir(opts.hostVars ?? path.join(dir, 'host_vars'), inv.notes)) {
    if (!inv.hostVars.has(name)) inv.notes.push(`host_vars/${name}: no host \`${name}\` in the inventory, not carried over`);
    else inv.hostVars.set(name, { ...inv.hostVars.get(name), ...vars });
  }
  const { inventory, notes } = toProvision(inv);
  const header = `# Imported from the Ansible inventory ${path.basename(file)} by \`provision import-ansible\`.\n# Add \`playbooks:\` to the groups (or hosts) that should run them.\n`;
  const notesText = notes.length ? `# Not carried over (see stderr when imported):\n${notes.map((n) => `#   ${n}`).join('\n')}\n` : '';
  return { yaml: header + notesText + stringify(inventory, { lineWidth: 0 }), notes };
}
