/**
 * User facts: ONE `getent passwd` over every name (exit 2 when some are missing: fine).
 * Lines are matched to keys by their name field: getent also resolves numeric keys as uids.
 */
import { sh } from '../sh.js';
import type { FactCollector, PasswdEntry } from './types.js';

export function parsePasswdLine(line: string): PasswdEntry | null {
  const f = line.split(':');
  if (f.length < 7 || !f[0] || !/^\d+$/.test(f[2]!) || !/^\d+$/.test(f[3]!)) return null;
  return { name: f[0], uid: Number(f[2]), gid: Number(f[3]), gecos: f[4]!, home: f[5]!, shell: f.slice(6).join(':') };
}

export const passwdCollector: FactCollector<PasswdEntry | null> = {
  kind: 'passwd',
  // No keys: `getent passwd` alone would enumerate every user.
  script: (keys) => (keys.length ? sh`getent passwd -- ${keys}` : sh`:`),
  parse(output, keys) {
    const out = new Map<string, PasswdEntry | null>(keys.map((k) => [k, null]));
    for (const line of output.split('\n')) {
      const e = parsePasswdLine(line);
      if (e && out.has(e.name) && out.get(e.name) === null) out.set(e.name, e);
    }
    return out;
  },
};
