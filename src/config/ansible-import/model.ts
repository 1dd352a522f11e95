/** An Ansible inventory as read (INI or YAML), before conversion. */
export interface AnsibleGroup {
  hosts: string[];
  children: string[];
  vars: Record<string, unknown>;
}

export interface AnsibleInventory {
  /** Groups in file order; `all` holds the global vars. */
  groups: Map<string, AnsibleGroup>;
  hostVars: Map<string, Record<string, unknown>>;
  /** What could not be read or carried over, one line each, with where. */
  notes: string[];
}

export function emptyInventory(): AnsibleInventory {
  return { groups: new Map([['all', { hosts: [], children: [], vars: {} }]]), hostVars: new Map(), notes: [] };
}

export function groupOf(inv: AnsibleInventory, name: string): AnsibleGroup {
  let g = inv.groups.get(name);
  if (!g) inv.groups.set(name, (g = { hosts: [], children: [], vars: {} }));
  return g;
}

export function addHost(inv: AnsibleInventory, group: string, host: string, vars: Record<string, unknown>): void {
  const g = groupOf(inv, group);
  if (!g.hosts.includes(host)) g.hosts.push(host);
  inv.hostVars.set(host, { ...(inv.hostVars.get(host) ?? {}), ...vars });
}

/** Ansible host ranges: `web[01:03]`, `db-[a:c]`, `n[0:10:5]`. */
export function expandHostPattern(pattern: string): string[] {
  const m = /^(.*?)\[([0-9a-z]+):([0-9a-z]+)(?::(\d+))?\](.*)$/i.exec(pattern);
  if (!m) return [pattern];
  const [, pre, from, to, step, post] = m as unknown as [string, string, string, string, string | undefined, string];
  const out: string[] = [];
  const inc = Number(step ?? 1);
  if (/^\d+$/.test(from) && /^\d+$/.test(to)) {
    const width = from.startsWith('0') ? from.length : 0;
    for (let i = Number(from); i <= Number(to); i += inc) out.push(...expandHostPattern(`${pre}${String(i).padStart(width, '0')}${post}`));
  } else {
    for (let c = from.charCodeAt(0); c <= to.charCodeAt(0); c += inc) out.push(...expandHostPattern(`${pre}${String.fromCharCode(c)}${post}`));
  }
  return out;
}
