/** Why a step in sync has nothing to do, said from the facts it asked for. */
import { describe, expect, it } from 'vitest';
import { describeInSync } from '../../../../src/resources/facts/describe.js';
import { commandResource } from '../../../../src/resources/command.js';
import { lineResource } from '../../../../src/resources/line.js';
import { facts } from '../facts-fixture.js';

const file = { type: 'f', mode: '0644', owner: 'root', group: 'root', size: 3, target: null };

describe('describeInSync', () => {
  it('a managed file: type, mode, owner and that the content matches', () => {
    const f = facts({ stat: new Map([['/etc/x', file]]), sha256: new Map([['/etc/x', 'ab12']]) });
    expect(describeInSync([{ kind: 'stat', path: '/etc/x' }, { kind: 'sha256', path: '/etc/x' }], f)).toBe('in sync: /etc/x: file, mode 0644, root:root; content matches');
  });

  it('absent paths, symlinks, packages, units, users, groups', () => {
    const f = facts({
      stat: new Map([['/gone', null], ['/l', { ...file, type: 'l', mode: '0777', target: '/t' }]]),
      package: new Map([['haproxy', { status: 'ii', version: '2.6.12-1' }], ['nope', null]]),
      unit: new Map([['haproxy.service', { id: 'haproxy.service', loadState: 'loaded', activeState: 'active', subState: 'running', unitFileState: 'enabled', fragmentPath: '', dropInPaths: [] }]]),
      passwd: new Map([['consul', { name: 'consul', uid: 999, gid: 998, gecos: '', home: '/etc/consul.d', shell: '/bin/false' }]]),
      group: new Map([['adm', { name: 'adm', gid: 4, members: ['syslog'] }], ['svc', null]]),
    });
    const said = describeInSync(
      [
        { kind: 'stat', path: '/gone' },
        { kind: 'stat', path: '/l' },
        { kind: 'package', name: 'haproxy' },
        { kind: 'package', name: 'nope' },
        { kind: 'unit', name: 'haproxy.service' },
        { kind: 'unit', name: 'missing.service' },
        { kind: 'passwd', name: 'consul' },
        { kind: 'group', name: 'adm' },
        { kind: 'group', name: 'svc' },
      ],
      f,
    );
    expect(said.split('; ')).toEqual([
      'in sync: /gone: absent',
      '/l: symlink to /t, mode 0777, root:root',
      'package haproxy 2.6.12-1 (ii)',
      'package nope: not installed',
      'haproxy.service: active (running), enabled',
      'missing.service: not found',
      'user consul: uid 999, gid 998, home /etc/consul.d, shell /bin/false',
      'group adm: gid 4, members syslog',
      'group svc: absent',
    ]);
  });

  it('requests that say nothing (contents) are left out; nothing to say is plain "in sync"', () => {
    expect(describeInSync([{ kind: 'content', path: '/x' }], facts({}))).toBe('in sync');
  });
});

describe('step types with their own reason', () => {
  it('command: which guard held', () => {
    const s = commandResource.schema.parse({ cmd: 'make', creates: '/opt/x' });
    expect(commandResource.okReason!(s, facts({ stat: new Map([['/opt/x', file]]) }))).toBe('`creates` /opt/x exists');
    const u = commandResource.schema.parse({ cmd: 'make', unless: 'test -e /y' });
    expect(commandResource.okReason!(u, facts({}))).toBe('`unless` command succeeded');
  });

  it('line: present, or nothing to remove', () => {
    const s = lineResource.schema.parse({ path: '/etc/c', line: 'a=1' });
    const f = facts({ stat: new Map([['/etc/c', file]]) });
    expect(lineResource.okReason!(s, f)).toBe('/etc/c already has the line');
    expect(lineResource.okReason!({ ...s, state: 'absent' }, f)).toBe('no line of /etc/c matches');
    expect(lineResource.okReason!({ ...s, state: 'absent' }, facts({ stat: new Map([['/etc/c', null]]) }))).toBe('/etc/c does not exist');
  });
});
