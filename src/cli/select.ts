/** The hosts a command works on: `--limit` (or `--host`) first, then this job's `--shard` share. */
import type { HostConfig, Inventory } from '../config/inventory.js';
import { inShard, type Shard } from '../config/shard.js';

export function selectHosts(inv: Inventory, pattern: string | undefined, shard: Shard | undefined): HostConfig[] {
  return inShard(inv.select(pattern), shard);
}
