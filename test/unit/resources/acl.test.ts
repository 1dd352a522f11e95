import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { aclKey, aclResource, isMaskEntry, type AclSpec } from '../../../src/resources/acl.js';
import { aclCollector } from '../../../src/resources/facts/acl.js';
import type { AclState } from '../../../src/resources/facts/types.js';
import { dctx, facts, sctx } from './facts-fixture.js';
import { isRoot, recorded, runFragment, sh } from './run-sh.js';

const spec = (body: Record<string, unknown>): AclSpec => aclResource.schema.parse(body);
const change = (s: AclSpec) => ({ step: 0, kind: 'acl', id: aclResource.id(s), action: 'update' as const, reason: '', attrs: [], spec: s });

describe('acl entries', () => {
  it.each(['user:consul:rwx', 'default:user:consul:rw-', 'group:adm:r-x', 'mask::rwx', 'other::---', 'user::rw-', 'default:mask::r-x'])('accepts %s', (e) => {
    expect(aclResource.check!(spec({ path: '/x', entries: [e] }))).toBeNull();
  });
  it.each(['u:consul:rw', 'user:consul:rw', 'user:consul:rwX', 'mask:x:rwx', 'user:consul', 'user:a b:rwx', 'user:$(id):rwx', 'default:user:consul:wr-'])('rejects %s, asking for the canonical form', (e) => {
    expect(aclResource.check!(spec({ path: '/x', entries: [e] }))).toMatch(/3-character form/);
  });
  it('absent takes named entries, perms optional', () => {
    expect(aclResource.check!(spec({ path: '/x', entries: ['user:consul', 'default:group:adm:r-x'], state: 'absent' }))).toBeNull();
    expect(aclResource.check!(spec({ path: '/x', entries: ['mask::rwx'], state: 'absent' }))).toMatch(/only named entries/);
  });
  it('rejects an entry given twice and relative paths', () => {
    expect(aclResource.check!(spec({ path: '/x', entries: ['user:a:rwx', 'user:a:r--'] }))).toMatch(/twice/);
    expect(aclResource.schema.safeParse({ path: 'x', entries: ['user:a:rwx'] }).success).toBe(false);
  });
  it('keys and masks', () => {
    expect(aclKey('default:user:consul:rw-')).toBe('default:user:consul');
    expect(aclKey('user:consul')).toBe('user:consul');
    expect(isMaskEntry('default:mask::rwx')).toBe(true);
    expect(isMaskEntry('user:mask:rwx')).toBe(false);
    expect(aclResource.facts(spec({ path: '/x', entries: ['user:a:rwx'] }))).toEqual([{ kind: 'acl', path: '/x' }]);
    expect(aclResource.id(spec({ path: '/x', entries: ['user:a:rwx'] }))).toBe('acl /x');
  });
});

describe('acl diff', () => {
  const P = '/tmp/acl-rec/conf.d';
  const before = aclCollector.parse(recorded('getfacl-before.txt'), [P]);
  const after = aclCollector.parse(recorded('getfacl-after.txt'), [P, '/tmp/acl-rec/odd name']);
  const f = (m: Map<string, AclState | null>) => facts({ acl: m });

  it('wants the missing entries on the recorded "before" ACL', () => {
    const ch = aclResource.diff(spec({ path: P, entries: ['default:user:daemon:rw-', 'user:daemon:rwx'] }), f(before), dctx);
    expect(ch).toMatchObject({ action: 'update', reason: 'entries missing: default:user:daemon:rw-, user:daemon:rwx' });
    expect(ch?.attrs).toEqual([
      { field: 'acl default:user:daemon', before: null, after: 'default:user:daemon:rw-' },
      { field: 'acl user:daemon', before: null, after: 'user:daemon:rwx' },
    ]);
  });

  it('is in sync on the recorded ACL after those setfacl calls (idempotence)', () => {
    expect(aclResource.diff(spec({ path: P, entries: ['default:user:daemon:rw-', 'user:daemon:rwx'] }), f(after), dctx)).toBeNull();
  });

  it('ignores #effective: a restricting mask does not make the entry differ', () => {
    const s = spec({ path: '/tmp/acl-rec/odd name', entries: ['user:daemon:rwx', 'mask::r--'] });
    expect(aclResource.diff(s, f(after), dctx)).toBeNull();
  });

  it('shows a permission change', () => {
    const ch = aclResource.diff(spec({ path: P, entries: ['user:daemon:r-x'] }), f(after), dctx);
    expect(ch?.attrs).toEqual([{ field: 'acl user:daemon', before: 'user:daemon:rwx', after: 'user:daemon:r-x' }]);
  });

  it('a missing path is a change (an earlier step may create it)', () => {
    expect(aclResource.diff(spec({ path: '/nope', entries: ['user:a:rwx'] }), f(new Map([['/nope', null]])), dctx)?.reason).toBe('path does not exist (yet)');
  });

  it('absent: removes present entries whatever their perms', () => {
    const ch = aclResource.diff(spec({ path: P, entries: ['user:daemon', 'group:adm'], state: 'absent' }), f(after), dctx);
    expect(ch).toMatchObject({ action: 'delete', attrs: [{ field: 'acl user:daemon', before: 'user:daemon:rwx', after: null }] });
    expect(aclResource.diff(spec({ path: P, entries: ['user:daemon'], state: 'absent' }), f(before), dctx)).toBeNull();
    expect(aclResource.diff(spec({ path: '/nope', entries: ['user:daemon'], state: 'absent' }), f(new Map([['/nope', null]])), dctx)).toBeNull();
  });
});

describe('acl apply fragment', () => {
  it('quotes the path', () => {
    const fr = aclResource.apply(change(spec({ path: "/srv/a b'c", entries: ['user:daemon:rwx'] })), sctx).text;
    expect(fr).toContain(`getfacl -p -- '/srv/a b'\\''c'`);
    expect(fr).toContain(`setfacl -m "\${_s#,}" -- '/srv/a b'\\''c'`);
  });

  describe.runIf(isRoot)('on a real temp dir', () => {
    const withDir = (fn: (dir: string) => void) => {
      const root = mkdtempSync(path.join(tmpdir(), 'prov-acl-'));
      const dir = path.join(root, "conf d'x");
      mkdirSync(dir);
      try {
        fn(dir);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    };
    const probe = (dir: string) => aclCollector.parse(sh(`{ ${aclCollector.script([dir])}\n} 2>/dev/null`).stdout, [dir]);

    it('sets missing entries once; the next probe is in sync', () => withDir((dir) => {
      const s = spec({ path: dir, entries: ['default:user:daemon:rw-', 'user:daemon:rwx', 'group:adm:r-x'] });
      expect(aclResource.diff(s, facts({ acl: probe(dir) }), dctx)).not.toBeNull();
      expect(runFragment(aclResource.apply(change(s), sctx))).toMatchObject({ status: 0, changed: true });
      expect(aclResource.diff(s, facts({ acl: probe(dir) }), dctx)).toBeNull();
      expect(runFragment(aclResource.apply(change(s), sctx))).toMatchObject({ status: 0, changed: false });
    }));

    it('keeps a declared mask when a named entry is added (setfacl would recompute it)', () => withDir((dir) => {
      const s = spec({ path: dir, entries: ['mask::r-x', 'user:daemon:rwx'] });
      // First the mask alone is in place: only the user entry is missing.
      sh(`setfacl -m mask::r-x -- '${dir.replace(/'/g, `'\\''`)}'`);
      expect(runFragment(aclResource.apply(change(s), sctx))).toMatchObject({ status: 0, changed: true });
      const acl = probe(dir).get(dir)!;
      expect(acl.entries).toContain('mask::r-x');
      expect(acl.entries).toContain('user:daemon:rwx');
      expect(aclResource.diff(s, facts({ acl: probe(dir) }), dctx)).toBeNull();
    }));

    it('removes entries, then is a no-op', () => withDir((dir) => {
      sh(`setfacl -m user:daemon:rwx,default:user:daemon:rw- -- '${dir.replace(/'/g, `'\\''`)}'`);
      const s = spec({ path: dir, entries: ['user:daemon', 'default:user:daemon:rw-', 'group:adm'], state: 'absent' });
      expect(runFragment(aclResource.apply(change(s), sctx))).toMatchObject({ status: 0, changed: true });
      const entries = probe(dir).get(dir)!.entries;
      expect(entries.some((e) => e.includes('daemon'))).toBe(false);
      expect(runFragment(aclResource.apply(change(s), sctx))).toMatchObject({ status: 0, changed: false });
    }));

    it('fails clearly when the path does not exist', () => withDir((dir) => {
      const r = runFragment(aclResource.apply(change(spec({ path: `${dir}/missing`, entries: ['user:daemon:rwx'] })), sctx));
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('missing does not exist');
    }));
  });
});
