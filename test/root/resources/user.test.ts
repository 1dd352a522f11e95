/**
 * Root tier: the user fragment run in a real `sh` as root on THIS machine, creating,
 * converging and removing real accounts (names unique per process, removed in `finally`).
 * Runs only as root (CI and the suite run as root).
 */
import { describe, expect, it } from 'vitest';
import { userResource, type UserSpec } from '../../../src/resources/user.js';
import { sctx } from '../../unit/resources/facts-fixture.js';
import { isRoot, runFragment, sh } from '../../unit/resources/run-sh.js';

const spec = (body: Record<string, unknown>): UserSpec => userResource.schema.parse(body);
const change = (s: UserSpec) => ({ step: 0, kind: 'user', id: userResource.id(s), action: 'create' as const, reason: '', attrs: [], spec: s });

describe('user apply fragment on this machine', () => {
  it.runIf(isRoot)('creates a system user with its own group, converges it, removes it', () => {
    const name = `provt${process.pid % 100000}u`;
    const other = `${name}x`;
    try {
      sh(`groupadd ${other}`);
      const body = { name, system: true, shell: '/bin/false', home: '/nonexistent', comment: "it's me" };
      const c = runFragment(userResource.apply(change(spec(body)), sctx));
      expect(c).toMatchObject({ status: 0, changed: true });
      const pw = sh(`getent passwd ${name}`).stdout.trim().split(':');
      expect(pw.slice(4)).toEqual(["it's me", '/nonexistent', '/bin/false']);
      // --user-group: the primary group is named after the user.
      expect(sh(`getent group ${name}`).stdout.split(':')[2]).toBe(pw[3]);
      expect(runFragment(userResource.apply(change(spec(body)), sctx)).changed).toBe(false);

      const body2 = { ...body, shell: '/usr/sbin/nologin', groups: [other] };
      const u = runFragment(userResource.apply(change(spec(body2)), sctx));
      expect(u).toMatchObject({ status: 0, changed: true });
      expect(sh(`getent passwd ${name}`).stdout.trim().endsWith(':/usr/sbin/nologin')).toBe(true);
      expect(sh(`id -nG ${name}`).stdout.split(' ').map((s) => s.trim())).toContain(other);
      expect(runFragment(userResource.apply(change(spec(body2)), sctx))).toMatchObject({ status: 0, changed: false });

      const d = runFragment(userResource.apply(change(spec({ name, state: 'absent' })), sctx));
      expect(d).toMatchObject({ status: 0, changed: true });
      expect(sh(`getent passwd ${name}`).status).toBe(2);
    } finally {
      sh(`userdel ${name} 2>/dev/null; groupdel ${name} 2>/dev/null; groupdel ${other} 2>/dev/null`);
    }
  });

  it.runIf(isRoot)('joins an existing group named after the user instead of failing', () => {
    const name = `provt${process.pid % 100000}v`;
    try {
      sh(`groupadd --system ${name}`);
      const r = runFragment(userResource.apply(change(spec({ name, system: true })), sctx));
      expect(r).toMatchObject({ status: 0, changed: true });
      expect(sh(`id -gn ${name}`).stdout.trim()).toBe(name);
    } finally {
      sh(`userdel ${name} 2>/dev/null; groupdel ${name} 2>/dev/null`);
    }
  });
});
