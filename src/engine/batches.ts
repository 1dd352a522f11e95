/**
 * Batch arithmetic of a rolling apply (pure). `serial` is a list of batch sizes, each a
 * count (`2`) or a share of the hosts (`"25%"`); the last entry repeats until every host
 * has a batch (`[1, "25%", "100%"]`: a canary, then a quarter, then the rest). A share is
 * rounded down with a floor of one host, as Ansible does, so `1%` of 10 hosts is 1.
 * `max_fail` is how many failed hosts a batch may have and the rollout still go on: a
 * count, or a share of that batch (rounded down). Default 0: any failure stops.
 */
import type { MaxFail, SerialEntry } from '../config/rollout-schema.js';

export type { MaxFail, SerialEntry };

export function isPercent(v: unknown): v is `${number}%` {
  return typeof v === 'string' && /^(100|[1-9]?[0-9])(\.[0-9]+)?%$/.test(v) && Number(v.slice(0, -1)) > 0;
}

/** The size of a batch from one `serial` entry and the total number of hosts. */
export function entrySize(entry: SerialEntry, total: number): number {
  if (typeof entry === 'number') return Math.max(1, Math.min(entry, total));
  const share = Math.floor((Number(entry.slice(0, -1)) * total) / 100);
  return Math.max(1, Math.min(share, total));
}

/** Sizes of the successive batches for `total` hosts (an empty `serial` = one batch). */
export function batchSizes(total: number, serial: readonly SerialEntry[]): number[] {
  if (total <= 0) return [];
  if (!serial.length) return [total];
  const sizes: number[] = [];
  let left = total;
  for (let i = 0; left > 0; i++) {
    const size = Math.min(entrySize(serial[Math.min(i, serial.length - 1)]!, total), left);
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

/** `items` cut into batches, order kept. */
export function splitBatches<T>(items: readonly T[], serial: readonly SerialEntry[]): T[][] {
  const out: T[][] = [];
  let at = 0;
  for (const size of batchSizes(items.length, serial)) {
    out.push(items.slice(at, at + size));
    at += size;
  }
  return out;
}

/** Failed hosts a batch of `batchSize` may have before the rollout stops. */
export function failuresAllowed(maxFail: MaxFail | undefined, batchSize: number): number {
  if (maxFail === undefined) return 0;
  if (typeof maxFail === 'number') return maxFail;
  return Math.floor((Number(maxFail.slice(0, -1)) * batchSize) / 100);
}

/** One rollout unit: hosts sharing a `serial` setting (the group that set it). */
export interface RolloutUnit<T> {
  /** The group whose `serial` applies, or null (hosts without one: a single batch). */
  group: string | null;
  serial: SerialEntry[];
  maxFail: MaxFail | undefined;
  items: T[];
}

/**
 * Hosts grouped by the group their `serial` comes from, in order of each unit's first
 * host; hosts inside a unit keep inventory order. `--serial` (override) makes every
 * host one unit with that setting.
 */
export function rolloutUnits<T>(
  items: readonly T[],
  settingsOf: (item: T) => { group: string | null; serial: SerialEntry[]; maxFail: MaxFail | undefined },
  override?: { serial: SerialEntry[]; maxFail?: MaxFail | undefined },
): RolloutUnit<T>[] {
  if (override) return items.length ? [{ group: null, serial: override.serial, maxFail: override.maxFail, items: [...items] }] : [];
  const units = new Map<string, RolloutUnit<T>>();
  for (const item of items) {
    const s = settingsOf(item);
    const key = s.group ?? '\0none';
    let u = units.get(key);
    if (!u) units.set(key, (u = { group: s.group, serial: s.serial, maxFail: s.maxFail, items: [] }));
    u.items.push(item);
  }
  return [...units.values()];
}
