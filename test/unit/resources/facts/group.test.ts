import { describe, expect, it } from 'vitest';
import { groupCollector, parseGroupLine } from '../../../../src/resources/facts/group.js';
import { recorded, sh } from '../run-sh.js';

describe('groupCollector', () => {
  it('emits one getent for every key', () => {
    expect(groupCollector.script(['consul', 'adm']).text).toBe('getent group -- consul adm');
    expect(groupCollector.script([]).text).toBe(':');
  });

  it('parses recorded output', () => {
    const keys = ['root', 'adm', 'nosuchgroup-xyz', 'nogroup', 'sudo'];
    const m = groupCollector.parse(recorded('getent-group.txt'), keys);
    expect(m.get('adm')).toEqual({ name: 'adm', gid: 4, members: [] });
    expect(m.get('nosuchgroup-xyz')).toBeNull();
    expect(m.get('nogroup')?.gid).toBe(65534);
  });

  it('splits members', () => {
    expect(parseGroupLine('adm:x:4:syslog,consul')).toEqual({ name: 'adm', gid: 4, members: ['syslog', 'consul'] });
    expect(parseGroupLine('nope')).toBeNull();
  });

  it('runs for real on this host', () => {
    const r = sh(groupCollector.script(['root', 'nosuchgroup-provision']));
    const m = groupCollector.parse(r.stdout, ['root', 'nosuchgroup-provision']);
    expect(m.get('root')?.gid).toBe(0);
    expect(m.get('nosuchgroup-provision')).toBeNull();
  });
});
