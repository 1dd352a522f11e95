/**
 * Path facts: ONE `find` for type/mode/owner/group/size/link target of every path, ONE
 * `sha256sum` over every file. NUL-separated output, so any byte in a path survives
 * (quotes, newlines, spaces).
 */
import { sh, type Sh } from '../sh.js';
import type { FactCollector, PathStat } from './types.js';

function list(keys: string[]): Sh {
  return sh`${keys}`;
}

export const statCollector: FactCollector<PathStat | null> = {
  kind: 'stat',
  // -maxdepth 0 with absolute paths: find never recurses and never mistakes a path for an
  // option. %m is the octal mode without leading zeros, %l the link target, %T@ the
  // modification time (restart pending: engine/load-pending.ts).
  script: (keys) => sh`find ${list(keys)} -maxdepth 0 -printf '%y %m %u %g %s %T@\\0%p\\0%l\\0'`,
  parse(output, keys) {
    const out = new Map<string, PathStat | null>(keys.map((k) => [k, null]));
    const parts = output.split('\0');
    for (let i = 0; i + 2 < parts.length; i += 3) {
      const [head, path, target] = [parts[i]!, parts[i + 1]!, parts[i + 2]!];
      const [type, mode, owner, group, size, mtime] = head.replace(/^\n/, '').split(' ');
      if (!type || !mode) continue;
      out.set(path, {
        type,
        mode: mode.padStart(4, '0'),
        owner: owner ?? '',
        group: group ?? '',
        size: Number(size),
        target: type === 'l' ? target : null,
        ...(mtime ? { mtime: Math.floor(Number(mtime)) } : {}),
      });
    }
    return out;
  },
};

export const sha256Collector: FactCollector<string | null> = {
  kind: 'sha256',
  // -z: NUL-terminated records and no escaping of odd file names. Directories and missing
  // files only print errors (discarded).
  script: (keys) => sh`sha256sum -z -- ${list(keys)}`,
  parse(output, keys) {
    const out = new Map<string, string | null>(keys.map((k) => [k, null]));
    for (const rec of output.split('\0')) {
      const m = /^\n?([0-9a-f]{64}) [ *](.*)$/s.exec(rec);
      if (m) out.set(m[2]!, m[1]!);
    }
    return out;
  },
};

/** Contents, for `line` steps and `--diff`: path NUL base64 NUL per readable regular file under 1 MiB. */
export const contentCollector: FactCollector<Buffer | null> = {
  kind: 'content',
  script: (keys) =>
    sh`for _p in ${list(keys)}; do if [ -f "$_p" ] && [ -r "$_p" ] && [ "$(stat -c %s -- "$_p")" -le 1048576 ]; then printf '%s\\0' "$_p"; base64 -w0 < "$_p"; printf '\\0'; fi; done`,
  parse(output, keys) {
    const out = new Map<string, Buffer | null>(keys.map((k) => [k, null]));
    const parts = output.split('\0');
    for (let i = 0; i + 1 < parts.length; i += 2) {
      out.set(parts[i]!.replace(/^\n/, ''), Buffer.from(parts[i + 1]!, 'base64'));
    }
    return out;
  },
};
