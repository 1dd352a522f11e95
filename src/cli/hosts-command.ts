/** `hosts`: what --limit selects, with addresses and groups. No connection. */
import { loadInventory } from '../config/inventory.js';
import { printError } from './errors.js';
import { selectHosts } from './select.js';
import type { Shard } from '../config/shard.js';

export async function hostsCommand(inventory: string, opts: { limit?: string; shard?: Shard }): Promise<number> {
  try {
    const inv = await loadInventory(inventory);
    const hosts = selectHosts(inv, opts.limit, opts.shard);
    const w = Math.max(4, ...hosts.map((h) => h.name.length));
    const a = Math.max(7, ...hosts.map((h) => h.address.length));
    process.stdout.write(`${'HOST'.padEnd(w)}  ${'ADDRESS'.padEnd(a)}  GROUPS\n`);
    for (const h of hosts) process.stdout.write(`${h.name.padEnd(w)}  ${h.address.padEnd(a)}  ${h.groups.join(',')}\n`);
    return 0;
  } catch (e) {
    return printError(e);
  }
}
