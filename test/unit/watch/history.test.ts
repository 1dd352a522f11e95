/** The JSON-lines history: appended, reloaded after a restart, a torn line skipped, 0600. */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryStore, parseHistory } from '../../../src/watch/history.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('history', () => {
  it('parseHistory keeps valid entries and skips a torn or foreign line', () => {
    const text = [
      '{"t":"2026-01-01T00:00:00Z","host":"a","status":"in-sync","ms":12,"steps":0}',
      '{"t":"2026-01-01T00:00:30Z","host":"a","status":"bogus","ms":12,"steps":0}',
      '{"t":"2026-01-01T00:01:00Z","host":"a","sta',
      '',
    ].join('\n');
    expect(parseHistory(text).map((e) => e.t)).toEqual(['2026-01-01T00:00:00Z']);
  });

  it('survives a restart, keeps the last N per host, and appends after a torn line on a new line', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'provision-history-'));
    const file = path.join(dir, 'sub', 'h.jsonl');
    const a = await HistoryStore.open(file, 2);
    for (let i = 0; i < 3; i++) await a.append({ t: `2026-01-01T00:00:0${i}Z`, host: 'web-1', status: i === 2 ? 'drift' : 'in-sync', ms: 10 + i, steps: i === 2 ? 1 : 0 });
    expect(a.of('web-1').map((e) => e.ms)).toEqual([11, 12]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await writeFile(file, (await readFile(file, 'utf8')) + '{"t":"torn');
    const b = await HistoryStore.open(file, 5);
    expect(b.of('web-1').map((e) => e.status)).toEqual(['in-sync', 'in-sync', 'drift']);
    await b.append({ t: '2026-01-01T00:00:09Z', host: 'web-1', status: 'repaired', ms: 99, steps: 1 });
    const c = await HistoryStore.open(file, 5);
    expect(c.of('web-1').map((e) => e.status)).toEqual(['in-sync', 'in-sync', 'drift', 'repaired']);
    expect(c.of('web-2')).toEqual([]);
  });
});
