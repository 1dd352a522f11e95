/**
 * Root tier: the group fragment run in a real `sh` as root on THIS machine, creating,
 * changing and removing a real group (name unique per process, removed in `finally`).
 * Runs only as root (CI and the suite run as root).
 */
import { describe, expect, it } from 'vitest';
import { groupResource, type GroupSpec } from '../../../src/resources/group.js';
import { sctx } from '../../unit/resources/facts-fixture.js';
import { isRoot, runFragment, sh } from '../../unit/resources/run-sh.js';

const spec = (body: Record<string, unknown>): GroupSpec => groupResource.schema.parse(body);
const change = (s: GroupSpec) => ({ step: 0, kind: 'group', id: groupResource.id(s), action: 'create' as const, reason: '', attrs: [], spec: s });

describe('group apply fragment on this machine', () => {
  it.runIf(isRoot)('creates, changes the gid of and removes a real group, idempotently', () => {
    const name = `provt${process.pid % 100000}g`;
    const gid = 42000 + (process.pid % 1000);
    try {
      const create = runFragment(groupResource.apply(change(spec({ name, system: true })), sctx));
      expect(create).toMatchObject({ status: 0, changed: true });
      expect(sh(`getent group ${name}`).stdout).toMatch(new RegExp(`^${name}:x:\\d+:`));
      expect(runFragment(groupResource.apply(change(spec({ name, system: true })), sctx)).changed).toBe(false);
      const mod = runFragment(groupResource.apply(change(spec({ name, gid })), sctx));
      expect(mod).toMatchObject({ status: 0, changed: true });
      expect(sh(`getent group ${name}`).stdout).toBe(`${name}:x:${gid}:\n`);
      expect(runFragment(groupResource.apply(change(spec({ name, gid })), sctx)).changed).toBe(false);
      expect(runFragment(groupResource.apply(change(spec({ name, state: 'absent' })), sctx))).toMatchObject({ status: 0, changed: true });
      expect(sh(`getent group ${name}`).status).toBe(2);
      expect(runFragment(groupResource.apply(change(spec({ name, state: 'absent' })), sctx)).changed).toBe(false);
    } finally {
      sh(`groupdel ${name} 2>/dev/null`);
    }
  });
});
