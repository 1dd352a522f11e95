/** Group facts: ONE `getent group` over every name; lines matched to keys by name. */
import { sh } from '../sh.js';
import type { FactCollector, GroupEntry } from './types.js';

export function parseGroupLine(line: string): GroupEntry | null {
  const f = line.split(':');
  if (f.length < 4 || !f[0] || !/^\d+$/.test(f[2]!)) return null;
  return { name: f[0], gid: Number(f[2]), members: f[3]!.split(',').filter((m) => m !== '') };
}

export const groupCollector: FactCollector<GroupEntry | null> = {
  kind: 'group',
  script: (keys) => (keys.length ? sh`getent group -- ${keys}` : sh`:`),
  parse(output, keys) {
    const out = new Map<string, GroupEntry | null>(keys.map((k) => [k, null]));
    for (const line of output.split('\n')) {
      const e = parseGroupLine(line);
      if (e && out.has(e.name) && out.get(e.name) === null) out.set(e.name, e);
    }
    return out;
  },
};
