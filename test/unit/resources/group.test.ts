import { describe, expect, it } from 'vitest';
import { groupResource, type GroupSpec } from '../../../src/resources/group.js';
import type { GroupEntry } from '../../../src/resources/facts/types.js';
import { dctx, facts, sctx } from './facts-fixture.js';

const spec = (body: Record<string, unknown>): GroupSpec => groupResource.schema.parse(body);
const groups = (m: Record<string, GroupEntry | null>) => facts({ group: new Map(Object.entries(m)) });
const change = (s: GroupSpec) => ({ step: 0, kind: 'group', id: groupResource.id(s), action: 'create' as const, reason: '', attrs: [], spec: s });

describe('group schema/facts', () => {
  it('validates names and defaults', () => {
    expect(spec({ name: 'consul' })).toEqual({ name: 'consul', system: false, state: 'present' });
    expect(groupResource.schema.safeParse({ name: 'a b' }).success).toBe(false);
    expect(groupResource.schema.safeParse({ name: 'x', gid: -1 }).success).toBe(false);
    expect(groupResource.facts(spec({ name: 'consul' }))).toEqual([{ kind: 'group', name: 'consul' }]);
    expect(groupResource.id(spec({ name: 'consul' }))).toBe('group consul');
  });
});

describe('group diff', () => {
  const consul: GroupEntry = { name: 'consul', gid: 998, members: [] };
  it.each([
    { name: 'missing', body: { name: 'consul', system: true }, have: null, action: 'create', attrs: [{ field: 'group', before: null, after: 'consul' }] },
    { name: 'missing with gid', body: { name: 'consul', gid: 990 }, have: null, action: 'create', attrs: [{ field: 'group', before: null, after: 'consul' }, { field: 'gid', before: null, after: '990' }] },
    { name: 'exists', body: { name: 'consul' }, have: consul, action: null },
    { name: 'exists, same gid', body: { name: 'consul', gid: 998 }, have: consul, action: null },
    { name: 'exists, other gid', body: { name: 'consul', gid: 990 }, have: consul, action: 'update', attrs: [{ field: 'gid', before: '998', after: '990' }] },
    { name: 'absent, exists', body: { name: 'consul', state: 'absent' }, have: consul, action: 'delete', attrs: [{ field: 'gid', before: '998', after: null }] },
    { name: 'absent, missing', body: { name: 'consul', state: 'absent' }, have: null, action: null },
  ])('$name', (c) => {
    const ch = groupResource.diff(spec(c.body), groups({ consul: c.have }), dctx);
    if (c.action === null) return expect(ch).toBeNull();
    expect(ch).toMatchObject({ action: c.action, attrs: c.attrs, id: 'group consul' });
  });
});

describe('group apply fragment', () => {
  it('builds guarded commands', () => {
    const f = groupResource.apply(change(spec({ name: 'consul', system: true, gid: 990 })), sctx).text;
    expect(f).toContain('groupadd --system --gid 990 consul || return 1');
    expect(f).toContain('groupmod --gid 990 consul');
    expect(groupResource.apply(change(spec({ name: 'consul', state: 'absent' })), sctx).text).toBe(
      'if getent group consul >/dev/null; then groupdel consul || return 1; _changed; fi',
    );
  });
});
