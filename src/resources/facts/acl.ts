/**
 * ACL facts: ONE `getfacl -p` over every path. Blocks start with `# file: PATH`, where
 * getfacl escapes `\` as `\\` and control characters as `\ooo` octal bytes; the parser
 * decodes them to match keys. Entries are every non-comment line, with the
 * `#effective:r--` comment (printed when the mask restricts an entry) stripped: the entry as
 * set is what a step declares. Missing paths print nothing on stdout: null.
 */
import { sh } from '../sh.js';
import type { AclState, FactCollector } from './types.js';

/** Decodes getfacl's name escaping (`\\` and `\ooo`, octal bytes of the UTF-8 name). */
export function decodeGetfaclName(name: string): string {
  if (!name.includes('\\')) return name;
  const src = Buffer.from(name, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < src.length; i++) {
    if (src[i] === 0x5c && src[i + 1] === 0x5c) {
      out.push(0x5c);
      i++;
    } else if (src[i] === 0x5c && /^[0-7]{3}$/.test(src.subarray(i + 1, i + 4).toString('latin1'))) {
      out.push(parseInt(src.subarray(i + 1, i + 4).toString('latin1'), 8));
      i += 3;
    } else {
      out.push(src[i]!);
    }
  }
  return Buffer.from(out).toString('utf8');
}

/** `user:consul:rwx\t#effective:r--` -> `user:consul:rwx`. */
export function stripAclComment(line: string): string {
  return line.replace(/\s*#.*$/, '');
}

export const aclCollector: FactCollector<AclState | null> = {
  kind: 'acl',
  script: (keys) => (keys.length ? sh`getfacl -p -- ${keys}` : sh`:`),
  parse(output, keys) {
    const out = new Map<string, AclState | null>(keys.map((k) => [k, null]));
    let current: AclState | null = null;
    for (const line of output.split('\n')) {
      const file = /^# file: (.*)$/.exec(line);
      if (file) {
        current = { entries: [] };
        const path = decodeGetfaclName(file[1]!);
        if (out.has(path)) out.set(path, current);
        continue;
      }
      if (!current || line.startsWith('#')) continue;
      const entry = stripAclComment(line).trim();
      if (entry) current.entries.push(entry);
    }
    return out;
  },
};
