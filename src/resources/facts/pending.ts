/**
 * Handlers notified by an earlier apply that never completed them (the run was cut or
 * interrupted, or the handler failed). The apply script records each notified handler as
 * a file in a directory beside the lock (name: the handler name in hex) and removes it
 * when the handler succeeds; the probe lists that directory so the next run finishes
 * the job even though the files are already in sync.
 */
import { joinSh, sh } from '../sh.js';
import type { FactCollector } from './types.js';

export function encodeHandlerName(name: string): string {
  return Buffer.from(name, 'utf8').toString('hex');
}

export const pendingCollector: FactCollector<string[]> = {
  kind: 'pending',
  script: (keys) => joinSh(keys.map((dir) => sh`printf '%s\\0' ${dir}; ls -1A -- ${dir} 2>/dev/null; printf '\\0'`)),
  parse(output, keys) {
    const out = new Map<string, string[]>(keys.map((k) => [k, []]));
    const parts = output.split('\0');
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const dir = parts[i]!.replace(/^\n/, '');
      const names = parts[i + 1]!
        .split('\n')
        .filter((n) => /^(?:[0-9a-f]{2})+$/.test(n))
        .map((n) => Buffer.from(n, 'hex').toString('utf8'));
      if (out.has(dir)) out.set(dir, names);
    }
    return out;
  },
};
