import { describe, expect, it } from 'vitest';
import { parsePasswdLine, passwdCollector } from '../../../../src/resources/facts/passwd.js';
import { recorded, sh } from '../run-sh.js';

describe('passwdCollector', () => {
  it('emits one getent for every key', () => {
    expect(passwdCollector.script(['consul', 'a b']).text).toBe("getent passwd -- consul 'a b'");
    expect(passwdCollector.script([]).text).toBe(':');
  });

  it('parses recorded output (getent exit 2, missing user absent from output)', () => {
    const keys = ['root', 'daemon', 'nosuchuser-xyz', 'nobody', '_apt'];
    const m = passwdCollector.parse(recorded('getent-passwd.txt'), keys);
    expect([...m.keys()]).toEqual(keys);
    expect(m.get('daemon')).toEqual({ name: 'daemon', uid: 1, gid: 1, gecos: 'daemon', home: '/usr/sbin', shell: '/usr/sbin/nologin' });
    expect(m.get('_apt')).toMatchObject({ uid: 42, gid: 65534, gecos: '' });
    expect(m.get('nosuchuser-xyz')).toBeNull();
  });

  it('matches by name, not order: getent resolves a numeric key as a uid', () => {
    const m = passwdCollector.parse('root:x:0:0:root:/root:/bin/bash\n', ['0']);
    expect(m.get('0')).toBeNull();
  });

  it('rejects malformed lines', () => {
    expect(parsePasswdLine('garbage')).toBeNull();
    expect(parsePasswdLine('a:x:notnum:1:::')).toBeNull();
  });

  it('runs for real on this host', () => {
    const r = sh(passwdCollector.script(['root', 'nosuchuser-provision']));
    expect(r.status).toBe(2);
    const m = passwdCollector.parse(r.stdout, ['root', 'nosuchuser-provision']);
    expect(m.get('root')?.uid).toBe(0);
    expect(m.get('nosuchuser-provision')).toBeNull();
  });
});
