/** --shard K/N: every host in exactly one shard, stable when hosts are added, spread evenly. */
import { describe, expect, it } from 'vitest';
import { inShard, parseShard, shardOf } from '../../../src/config/shard.js';

const names = (n: number, prefix = 'lb-') => Array.from({ length: n }, (_, i) => ({ name: `${prefix}${i + 1}` }));

describe('shards', () => {
  it('parses K/N and refuses anything else', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    for (const bad of ['0/4', '5/4', '1/0', '2', 'a/b', '1/2/3']) expect(() => parseShard(bad)).toThrow(/K\/N/);
  });

  it('puts every host in exactly one of the N shards', () => {
    const hosts = names(200);
    const shards = [1, 2, 3, 4].map((k) => inShard(hosts, { index: k, count: 4 }).map((h) => h.name));
    expect(shards.flat().sort()).toEqual(hosts.map((h) => h.name).sort());
    for (const s of shards) expect(s.length).toBeGreaterThan(30); // 50 expected; a gross imbalance fails
  });

  it('keeps every host in its shard when other hosts are added', () => {
    const before = new Map(names(100).map((h) => [h.name, shardOf(h.name, 5)]));
    const after = [...names(100), ...names(60, 'new-')];
    for (const h of after) if (before.has(h.name)) expect(shardOf(h.name, 5)).toBe(before.get(h.name));
  });

  it('moves only hosts that go to the new shard when N grows', () => {
    for (const h of names(300)) {
      const was = shardOf(h.name, 3);
      const now = shardOf(h.name, 4);
      expect(now === was || now === 4).toBe(true);
    }
  });

  it('without --shard selects everything', () => {
    expect(inShard(names(3), undefined)).toHaveLength(3);
  });
});
