import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { aclCollector, decodeGetfaclName, stripAclComment } from '../../../../src/resources/facts/acl.js';
import { recorded, sh } from '../run-sh.js';

describe('aclCollector', () => {
  it('emits one getfacl for every path', () => {
    expect(aclCollector.script(['/etc/haproxy/conf.d', '/a b']).text).toBe("getfacl -p -- /etc/haproxy/conf.d '/a b'");
    expect(aclCollector.script([]).text).toBe(':');
  });

  it('parses recorded output before setfacl', () => {
    const m = aclCollector.parse(recorded('getfacl-before.txt'), ['/tmp/acl-rec/conf.d']);
    expect(m.get('/tmp/acl-rec/conf.d')).toEqual({ entries: ['user::rwx', 'group::r-x', 'other::r-x'] });
  });

  it('parses recorded output after setfacl: default entries, #effective stripped, missing path null', () => {
    // Recorded after: setfacl -m default:user:daemon:rw- conf.d; setfacl -m user:daemon:rwx conf.d;
    // setfacl -m user:daemon:rwx,mask::r-- 'odd name'; then getfacl -p -- conf.d 'odd name' missing
    const keys = ['/tmp/acl-rec/conf.d', '/tmp/acl-rec/odd name', '/tmp/acl-rec/missing'];
    const m = aclCollector.parse(recorded('getfacl-after.txt'), keys);
    expect(m.get(keys[0]!)?.entries).toEqual([
      'user::rwx', 'user:daemon:rwx', 'group::r-x', 'mask::rwx', 'other::r-x',
      'default:user::rwx', 'default:user:daemon:rw-', 'default:group::r-x', 'default:mask::rwx', 'default:other::r-x',
    ]);
    expect(m.get(keys[1]!)?.entries).toEqual(['user::rwx', 'user:daemon:rwx', 'group::r-x', 'mask::r--', 'other::r-x']);
    expect(m.get(keys[2]!)).toBeNull();
  });

  it('decodes escaped names (recorded: backslash, newline, tab, UTF-8)', () => {
    const keys = ['/tmp/acl-rec/back\\slash', '/tmp/acl-rec/new\nline', '/tmp/acl-rec/tab\tx', '/tmp/acl-rec/é'];
    const m = aclCollector.parse(recorded('getfacl-escaped.txt'), keys);
    for (const k of keys) expect(m.get(k)?.entries).toContain('user::rwx');
    expect(decodeGetfaclName('/a/\\303\\251')).toBe('/a/é');
    expect(decodeGetfaclName('/plain')).toBe('/plain');
    expect(stripAclComment('user:x:rwx\t#effective:r--')).toBe('user:x:rwx');
  });

  it('runs for real on a temp dir with odd names', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'prov-acl-'));
    try {
      const odd = path.join(dir, "new\nline 'q'");
      mkdirSync(odd);
      const keys = [odd, path.join(dir, 'missing')];
      const r = sh(`{ ${aclCollector.script(keys)}\n} 2>/dev/null`);
      const m = aclCollector.parse(r.stdout, keys);
      expect(m.get(odd)?.entries).toEqual(['user::rwx', 'group::r-x', 'other::r-x']);
      expect(m.get(keys[1]!)).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
