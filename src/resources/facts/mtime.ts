/**
 * Modification times (whole seconds since the epoch) of paths: ONE `find -maxdepth 1`,
 * NUL-separated. Used to tell whether a running process loaded a file before or after its
 * last change ("reload pending"). A missing path is null.
 *
 * A directory's time is the newest of the non-hidden regular files directly in it (what
 * HAProxy loads from `-f DIR`, what a service reads from a drop-in directory), not its own
 * mtime: that one moves when a tool makes and removes a temp file there (a false "pending")
 * and does not move when a file in it is edited in place (a missed one). A directory with
 * no such file is null. The cost: a file removed from it is not seen.
 */
import { sh } from '../sh.js';
import type { FactCollector } from './types.js';

export const mtimeCollector: FactCollector<number | null> = {
  kind: 'mtime',
  script: (keys) => sh`find ${keys} -maxdepth 1 -printf '%d %y %T@ %p\\0'`,
  parse(output, keys) {
    const out = new Map<string, number | null>(keys.map((k) => [k, null]));
    for (const rec of output.split('\0')) {
      const m = /^\n?([01]) (\S) (\d+)(?:\.\d+)? (.*)$/s.exec(rec);
      if (!m) continue;
      const [, depth, type, secs, p] = m as unknown as [string, string, string, string, string];
      if (depth === '0') {
        if (type !== 'd' && out.has(p)) out.set(p, Number(secs));
        continue;
      }
      const slash = p.lastIndexOf('/');
      const dir = p.slice(0, slash);
      if (type !== 'f' || p[slash + 1] === '.' || !out.has(dir)) continue;
      out.set(dir, Math.max(out.get(dir) ?? 0, Number(secs)));
    }
    return out;
  },
};
