/**
 * `group_vars/` and `host_vars/`: for each NAME, a file `NAME`, `NAME.yml`, `NAME.yaml` or
 * `NAME.json`, or a directory `NAME/` of such files (merged in name order). A file that
 * is vault-encrypted as a whole is reported, not read.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseAnsibleYaml } from './yaml-inventory.js';

const EXT = /\.(ya?ml|json)$/;

async function readVarsFile(file: string, notes: string[]): Promise<Record<string, unknown>> {
  const text = await readFile(file, 'utf8');
  if (text.startsWith('$ANSIBLE_VAULT;')) {
    notes.push(`${file}: vault-encrypted file not carried over (decrypt it with ansible-vault and give its values as provision secrets)`);
    return {};
  }
  try {
    const data = parseAnsibleYaml(text);
    return data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
  } catch (e) {
    notes.push(`${file}: not read (${(e as Error).message})`);
    return {};
  }
}

/** NAME -> vars, for every entry of `dir` (absent dir: nothing). */
export async function readVarsDir(dir: string, notes: string[]): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  let entries: string[];
  try {
    entries = (await readdir(dir)).sort();
  } catch {
    return out;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry);
    const name = entry.replace(EXT, '');
    let vars: Record<string, unknown> = {};
    if ((await stat(full)).isDirectory()) {
      for (const f of (await readdir(full)).sort()) if (EXT.test(f) || !f.includes('.')) Object.assign(vars, await readVarsFile(path.join(full, f), notes));
    } else if (EXT.test(entry) || !entry.includes('.')) vars = await readVarsFile(full, notes);
    else continue;
    out.set(name, { ...(out.get(name) ?? {}), ...vars });
  }
  return out;
}
