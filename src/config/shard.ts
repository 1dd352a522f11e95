/**
 * `--shard K/N`: a deterministic share of the selected hosts, so a fleet larger than one
 * controller runs as N CI jobs. Rendezvous (highest random weight) hashing: each host goes
 * to the shard whose hash with the host's name is highest. A host's shard depends only on
 * its own name and N, so adding or removing other hosts never moves it, and going from N
 * to N+1 shards moves only about 1/(N+1) of the hosts.
 */
import { createHash } from 'node:crypto';

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

/** `K/N` with 1 <= K <= N. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) throw new Error(`"${text}" is not K/N with 1 <= K <= N (e.g. 2/4)`);
  return { index, count };
}

function weight(host: string, shard: number): bigint {
  return createHash('sha256').update(`${host}\0${shard}`).digest().readBigUInt64BE(0);
}

/** 1-based shard of a host among `count`. */
export function shardOf(host: string, count: number): number {
  let best = 1;
  let bestW = -1n;
  for (let k = 1; k <= count; k++) {
    const w = weight(host, k);
    if (w > bestW) [best, bestW] = [k, w];
  }
  return best;
}

export function inShard<T extends { name: string }>(hosts: T[], shard: Shard | undefined): T[] {
  return shard ? hosts.filter((h) => shardOf(h.name, shard.count) === shard.index) : hosts;
}
