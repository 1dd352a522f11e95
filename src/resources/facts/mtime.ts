/**
 * Modification times (whole seconds since the epoch) of paths: ONE `find -maxdepth 0`,
 * NUL-separated. Used to tell whether a running process loaded a file before or after its
 * last change ("reload pending"). A missing path is null.
 */
import { sh } from '../sh.js';
import type { FactCollector } from './types.js';

export const mtimeCollector: FactCollector<number | null> = {
  kind: 'mtime',
  script: (keys) => sh`find ${keys} -maxdepth 0 -printf '%T@ %p\\0'`,
  parse(output, keys) {
    const out = new Map<string, number | null>(keys.map((k) => [k, null]));
    for (const rec of output.split('\0')) {
      const m = /^\n?(\d+)(?:\.\d+)? (.*)$/s.exec(rec);
      if (m && out.has(m[2]!)) out.set(m[2]!, Number(m[1]));
    }
    return out;
  },
};
