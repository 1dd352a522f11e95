/** report merge: shard reports combined, validated, overlapping shards refused, one exit code. */
import { describe, expect, it } from 'vitest';
import { exitCodeOf, mergeReports, parseReport } from '../../../src/report/merge.js';

const host = (name: string, status: string) => ({ host: name, status, error: null, notes: [], pending_handlers: [], seconds: 1, execs: 1, steps: [], handlers: [] });
const rep = (mode: string, ...hosts: object[]) => JSON.stringify({ mode, hosts });

describe('report merge', () => {
  it('combines hosts of every report in order and gives the exit code check would', () => {
    const m = mergeReports([
      { file: 'a.json', report: parseReport('a.json', rep('check', host('lb-1', 'in-sync'))) },
      { file: 'b.json', report: parseReport('b.json', rep('check', host('lb-2', 'drift'), host('lb-3', 'in-sync'))) },
    ]);
    expect(m.hosts.map((h) => h.host)).toEqual(['lb-1', 'lb-2', 'lb-3']);
    expect(exitCodeOf(m.mode, m.hosts)).toBe(2);
    expect(exitCodeOf('check', [{ status: 'drift' }, { status: 'unreachable' }])).toBe(1);
    expect(exitCodeOf('apply', [{ status: 'changed' }, { status: 'ok' }])).toBe(0);
  });

  it('refuses overlapping shards, mixed modes, and files that are not reports', () => {
    const a = { file: 'a.json', report: parseReport('a.json', rep('check', host('lb-1', 'in-sync'))) };
    expect(() => mergeReports([a, { file: 'b.json', report: parseReport('b.json', rep('check', host('lb-1', 'drift'))) }])).toThrow(/lb-1 is in both a.json and b.json/);
    expect(() => mergeReports([a, { file: 'c.json', report: parseReport('c.json', rep('apply')) }])).toThrow(/c.json is a apply report/);
    expect(() => parseReport('t.json', '{"mode":"check","hosts":[')).toThrow(/t.json: not JSON/);
    expect(() => parseReport('x.json', '{"mode":"plan","hosts":[]}')).toThrow(/x.json: not a provision --json report \(mode/);
  });
});
