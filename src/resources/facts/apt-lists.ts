/**
 * How old apt's package lists are. The mtimes of the list files are the mirror's
 * Last-Modified dates, not the time of the last `apt-get update` (bookworm's main lists
 * keep the date of the last point release), so they alone would call fresh lists stale.
 * `apt-get update` always touches the `partial` directory, even when every index is a
 * "Hit": the newest of it and the `*_Packages*` files is the last update. No `*_Packages*`
 * file at all means lists were never fetched (or were cleaned, as in container images).
 */
import type { FactCollector } from './types.js';
import { sh } from '../sh.js';

export const APT_LISTS_DIR = '/var/lib/apt/lists';

export const aptListsCollector: FactCollector<number | null> = {
  kind: 'aptLists',
  script: () =>
    sh`find ${APT_LISTS_DIR} -maxdepth 1 \\( -type d -name partial -o -type f -name '*_Packages*' \\) -printf '%y %T@\\n'; date +%s`,
  parse(output) {
    let newest = -Infinity;
    let lists = 0;
    let now: number | null = null;
    for (const line of output.split('\n')) {
      const m = /^([df]) (\d+(?:\.\d+)?)$/.exec(line.trim());
      if (m) {
        newest = Math.max(newest, Number(m[2]));
        if (m[1] === 'f') lists++;
      } else if (/^\d+$/.test(line.trim())) {
        now = Number(line.trim());
      }
    }
    const age = lists > 0 && now !== null ? Math.max(0, Math.floor(now - newest)) : null;
    return new Map([['', age]]);
  },
};
