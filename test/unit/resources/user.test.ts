import { describe, expect, it } from 'vitest';
import { userAttrDiffs, userResource, type UserSpec } from '../../../src/resources/user.js';
import type { GroupEntry, PasswdEntry } from '../../../src/resources/facts/types.js';
import { dctx, facts, sctx } from './facts-fixture.js';

const spec = (body: Record<string, unknown>): UserSpec => userResource.schema.parse(body);
const change = (s: UserSpec) => ({ step: 0, kind: 'user', id: userResource.id(s), action: 'create' as const, reason: '', attrs: [], spec: s });
const consulPw: PasswdEntry = { name: 'consul', uid: 999, gid: 998, gecos: '', home: '/etc/consul.d', shell: '/bin/false' };
const g = (name: string, gid: number, members: string[] = []): GroupEntry => ({ name, gid, members });

describe('user schema/facts', () => {
  it('validates', () => {
    expect(spec({ name: 'consul', system: true })).toEqual({ name: 'consul', system: true, state: 'present' });
    expect(userResource.schema.safeParse({ name: 'consul', comment: 'a:b' }).success).toBe(false);
    expect(userResource.schema.safeParse({ name: 'consul', shell: 'bin/false' }).success).toBe(false);
    expect(userResource.schema.safeParse({ name: 'consul', groups: ['a;b'] }).success).toBe(false);
    expect(userResource.schema.safeParse({ name: 'consul', home: '/x:y' }).success).toBe(false);
    expect(userResource.schema.safeParse({ name: 'consul', bogus: 1 }).success).toBe(false);
  });
  it('asks for the account and every named group once', () => {
    expect(userResource.facts(spec({ name: 'consul', group: 'adm', groups: ['adm', 'sudo'] }))).toEqual([
      { kind: 'passwd', name: 'consul' },
      { kind: 'group', name: 'adm' },
      { kind: 'group', name: 'sudo' },
    ]);
    expect(userResource.id(spec({ name: 'consul' }))).toBe('user consul');
  });
});

describe('user diff', () => {
  const f = (pw: PasswdEntry | null, gs: GroupEntry[] = []) =>
    facts({ passwd: new Map([['consul', pw]]), group: new Map(gs.map((x) => [x.name, x])) });

  it.each([
    { name: 'missing', body: { name: 'consul', system: true, shell: '/bin/false' }, pw: null, gs: [], action: 'create', reason: 'does not exist' },
    { name: 'in sync', body: { name: 'consul', system: true, shell: '/bin/false', home: '/etc/consul.d', group: 'consul' }, pw: consulPw, gs: [g('consul', 998)], action: null },
    { name: 'shell differs', body: { name: 'consul', shell: '/usr/sbin/nologin' }, pw: consulPw, gs: [], action: 'update', reason: 'shell differs' },
    { name: 'uid + home differ', body: { name: 'consul', uid: 500, home: '/var/lib/consul' }, pw: consulPw, gs: [], action: 'update', reason: 'uid differs, home differs' },
    { name: 'primary group differs', body: { name: 'consul', group: 'adm' }, pw: consulPw, gs: [g('adm', 4), g('consul', 998)], action: 'update', reason: 'group differs' },
    { name: 'primary group not there yet', body: { name: 'consul', group: 'svc' }, pw: consulPw, gs: [], action: 'update', reason: 'group differs' },
    { name: 'not a member', body: { name: 'consul', groups: ['adm'] }, pw: consulPw, gs: [g('adm', 4, ['syslog'])], action: 'update', reason: 'member of adm differs' },
    { name: 'a member', body: { name: 'consul', groups: ['adm'] }, pw: consulPw, gs: [g('adm', 4, ['syslog', 'consul'])], action: null },
    { name: 'member through the primary group', body: { name: 'consul', groups: ['consul'] }, pw: consulPw, gs: [g('consul', 998)], action: null },
    { name: 'comment differs', body: { name: 'consul', comment: 'Consul agent' }, pw: consulPw, gs: [], action: 'update', reason: 'comment differs' },
    { name: 'absent, exists', body: { name: 'consul', state: 'absent' }, pw: consulPw, gs: [], action: 'delete' },
    { name: 'absent, missing', body: { name: 'consul', state: 'absent' }, pw: null, gs: [], action: null },
  ])('$name', (c) => {
    const ch = userResource.diff(spec(c.body), f(c.pw, c.gs), dctx);
    if (c.action === null) return expect(ch).toBeNull();
    expect(ch?.action).toBe(c.action);
    if (c.reason) expect(ch?.reason).toBe(c.reason);
  });

  it('shows the current primary group by name when probed', () => {
    const attrs = userAttrDiffs(spec({ name: 'consul', group: 'adm' }), consulPw, f(consulPw, [g('adm', 4), g('consul', 998)]));
    expect(attrs).toEqual([{ field: 'group', before: 'consul', after: 'adm' }]);
    const unnamed = userAttrDiffs(spec({ name: 'consul', group: 'adm' }), consulPw, f(consulPw, [g('adm', 4)]));
    expect(unnamed).toEqual([{ field: 'group', before: 'gid 998', after: 'adm' }]);
    const attrs2 = userAttrDiffs(spec({ name: 'consul', group: 'adm' }), { ...consulPw, gid: 4 }, f(consulPw, [g('adm', 4)]));
    expect(attrs2).toEqual([]);
  });
});

describe('user apply fragment', () => {
  it('quotes values with spaces and quotes', () => {
    const fr = userResource.apply(change(spec({ name: 'consul', comment: "Consul's agent", home: '/srv/my home' })), sctx).text;
    expect(fr).toContain(`--comment 'Consul'\\''s agent'`);
    expect(fr).toContain(`--home-dir '/srv/my home'`);
    expect(fr).toContain(`[ "$_home" = '/srv/my home' ] || set -- "$@" --home '/srv/my home'`);
  });
});
