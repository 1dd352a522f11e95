import { describe, expect, it } from 'vitest';
import { aptListsCollector } from '../../../../src/resources/facts/apt-lists.js';
import { sh } from '../run-sh.js';

describe('aptListsCollector', () => {
  it('counts the newest of partial/ and the Packages files (mirror dates are old)', () => {
    // Recorded on Debian 12 right after an `apt-get update` where every index was a Hit:
    // the lists keep the mirror's dates, partial/ has the update time.
    const out = [
      'f 1795505895.0000000000',
      'f 1783764997.0000000000',
      'd 1795506411.0302186390',
      'f 1795505895.0000000000',
      '1795506416',
    ].join('\n');
    expect(aptListsCollector.parse(out, [''])).toEqual(new Map([['', 4]]));
  });

  it('is null when no Packages file exists (never updated, or cleaned)', () => {
    expect(aptListsCollector.parse('d 1795506411.03\n1795506416', ['']).get('')).toBeNull();
    expect(aptListsCollector.parse('', ['']).get('')).toBeNull();
  });

  it('never reports a negative age (clock skew)', () => {
    expect(aptListsCollector.parse('f 2000.5\n1000', ['']).get('')).toBe(0);
  });

  it('runs for real on this host', () => {
    const r = sh(`{ ${aptListsCollector.script([''])}\n} 2>/dev/null`);
    const age = aptListsCollector.parse(r.stdout, ['']).get('');
    expect(r.stdout).toMatch(/^\d+$/m);
    expect(age === null || (typeof age === 'number' && age >= 0)).toBe(true);
  });
});
