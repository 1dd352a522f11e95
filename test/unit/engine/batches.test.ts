import { describe, expect, it } from 'vitest';
import { batchSizes, entrySize, failuresAllowed, isPercent, rolloutUnits, splitBatches } from '../../../src/engine/batches.js';

describe('batch arithmetic', () => {
  it('a count: batches of that size, the last one holding the rest', () => {
    expect(batchSizes(3, [1])).toEqual([1, 1, 1]);
    expect(batchSizes(7, [3])).toEqual([3, 3, 1]);
    expect(batchSizes(2, [5])).toEqual([2]);
  });

  it('no serial: one batch of every host; no hosts: no batch', () => {
    expect(batchSizes(4, [])).toEqual([4]);
    expect(batchSizes(0, [1])).toEqual([]);
  });

  it('a share is rounded down, never below one host', () => {
    expect(entrySize('25%', 10)).toBe(2);
    expect(entrySize('25%', 3)).toBe(1);
    expect(entrySize('1%', 10)).toBe(1);
    expect(entrySize('100%', 10)).toBe(10);
    expect(batchSizes(10, ['30%'])).toEqual([3, 3, 3, 1]);
  });

  it('a list: one entry per batch, the last repeating (canary first)', () => {
    expect(batchSizes(10, [1, '25%', '100%'])).toEqual([1, 2, 7]);
    expect(batchSizes(10, [1, 2])).toEqual([1, 2, 2, 2, 2, 1]);
    expect(batchSizes(2, [1, '25%', '100%'])).toEqual([1, 1]);
  });

  it('splits items in order', () => {
    expect(splitBatches(['a', 'b', 'c', 'd', 'e'], [1, 2])).toEqual([['a'], ['b', 'c'], ['d', 'e']]);
  });

  it('max_fail: a count, a share of the batch (rounded down), default 0', () => {
    expect(failuresAllowed(undefined, 5)).toBe(0);
    expect(failuresAllowed(2, 5)).toBe(2);
    expect(failuresAllowed('50%', 5)).toBe(2);
    expect(failuresAllowed('50%', 1)).toBe(0);
    expect(failuresAllowed('100%', 4)).toBe(4);
  });

  it('percent syntax', () => {
    expect(isPercent('25%')).toBe(true);
    expect(isPercent('12.5%')).toBe(true);
    expect(isPercent('0%')).toBe(false);
    expect(isPercent('101%')).toBe(false);
    expect(isPercent('25')).toBe(false);
  });

  it('units: hosts grouped by the group their serial comes from, inventory order kept', () => {
    const hosts = [
      { n: 'app-1', g: null },
      { n: 'lb-1', g: 'lb' },
      { n: 'app-2', g: null },
      { n: 'lb-2', g: 'lb' },
    ];
    const units = rolloutUnits(hosts, (h) => ({ group: h.g, serial: h.g ? [1] : [], maxFail: undefined }));
    expect(units.map((u) => [u.group, u.items.map((h) => h.n)])).toEqual([
      [null, ['app-1', 'app-2']],
      ['lb', ['lb-1', 'lb-2']],
    ]);
    const over = rolloutUnits(hosts, () => ({ group: 'x', serial: [], maxFail: undefined }), { serial: ['50%'] });
    expect(over).toHaveLength(1);
    expect(splitBatches(over[0]!.items, over[0]!.serial).map((b) => b.map((h) => h.n))).toEqual([['app-1', 'lb-1'], ['app-2', 'lb-2']]);
  });
});
