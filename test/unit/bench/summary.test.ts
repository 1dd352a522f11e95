/** The benchmark's rows: medians per tool, ratios to provision, the load beside each row, the tool order. */
import { describe, expect, it } from 'vitest';
import { loadRange, summarize, table, type Sample } from '../../../bench/summary.js';
import { rotate, type Case, type Tool } from '../../../bench/tools.js';

function sample(tool: Tool | 'floor', c: Case, wallS: number, over: Partial<Sample> = {}): Sample {
  return {
    tool, case: c, n: 10, run: 1, wallS, ok: true, connections: 10, sessions: 10,
    maxRssMB: 80, treePssMB: 80, controllerCpuS: 1, remoteCpuS: 2, loadAvg: '2.00 1.50 1.00', ...over,
  };
}

describe('bench summary', () => {
  const samples = [
    sample('provision', 'check', 2, { loadAvg: '6.10 5 4' }),
    sample('provision', 'check', 4, { maxRssMB: 95 }),
    sample('provision', 'check', 3),
    sample('provision', 'check', 99, { ok: false, error: 'exit 1' }),
    sample('pyinfra', 'check', 30, { sessions: 290, loadAvg: '12.40 9 8' }),
    sample('ansible', 'check', 90),
    sample('floor', 'check', 1.5),
    sample('provision', 'first', 5),
  ];
  const rows = summarize(samples, [10], ['first', 'check'], ['provision', 'ansible', 'pyinfra']);

  it('medians of the successful runs only; a peer as a multiple of provision; the floor on the check row', () => {
    const check = rows.find((r) => r.case === 'check')!;
    expect(check.tools.provision).toMatchObject({ runs: 3, wallS: 3, vsProvision: null, peakMB: 95 });
    expect(check.tools.pyinfra).toMatchObject({ runs: 1, wallS: 30, vsProvision: 10, sessionsPerHost: 29 });
    expect(check.tools.ansible?.vsProvision).toBe(30);
    expect(check.floorS).toBe(1.5);
    expect(check.vsFloor).toBe(2);
  });

  it('records the range of the 1-minute load the row\'s runs started at, failed runs included', () => {
    expect(rows.find((r) => r.case === 'check')!.load).toBe('2.0-12.4');
    expect(loadRange([sample('provision', 'check', 1)])).toBe('2.0');
    expect(loadRange([sample('provision', 'check', 1, { loadAvg: '?' })])).toBe('?');
  });

  it('leaves a tool without runs out of its row, and a case without runs out of the table', () => {
    const first = rows.find((r) => r.case === 'first')!;
    expect(Object.keys(first.tools)).toEqual(['provision']);
    expect(first.floorS).toBeNull();
    expect(summarize(samples, [10], ['second'], ['provision'])).toEqual([]);
  });

  it('prints one aligned line per row with each tool\'s time, ratio and the load', () => {
    const lines = table(rows, ['provision', 'ansible', 'pyinfra']).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^case\s+N\s+provision s\s+ansible s\s+x\s+pyinfra s\s+x\s+floor s/);
    expect(lines[3]).toMatch(/^check\s+10\s+3\.000\s+90\.00\s+30\.0x\s+30\.00\s+10\.0x\s+1\.500\s+2\.00\s+1\.0 \| 1\.0 \| 29\.0\s+95 \| 80 \| 80\s+1\.00 \| 1\.00 \| 1\.00\s+2\.0-12\.4$/);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
  });

  it('rotates the tools so that each goes first in turn', () => {
    const t = ['provision', 'ansible', 'pyinfra'];
    expect([1, 2, 3, 4].map((run) => rotate(t, run)[0])).toEqual(['provision', 'ansible', 'pyinfra', 'provision']);
    expect(rotate(t, 2)).toEqual(['ansible', 'pyinfra', 'provision']);
    expect(rotate([], 3)).toEqual([]);
  });
});
