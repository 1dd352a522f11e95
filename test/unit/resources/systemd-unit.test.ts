import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { systemdUnitResource, unitDest, type SystemdUnitSpec } from '../../../src/resources/systemd-unit.js';
import { sha256, type ManagedFile } from '../../../src/resources/file-common.js';
import type { PathStat } from '../../../src/resources/facts/types.js';
import type { PrepareContext } from '../../../src/resources/types.js';
import { dctx, facts, sctx } from './facts-fixture.js';
import { isRoot, runFragment } from './run-sh.js';

const spec = (body: Record<string, unknown>): SystemdUnitSpec => systemdUnitResource.schema.parse(body);
const UNIT = '[Unit]\nDescription=Consul\n\n[Service]\nExecStart=/usr/bin/consul agent\n';
const st = (mode = '0644'): PathStat => ({ type: 'f', mode, owner: 'root', group: 'root', size: 1, target: null });

describe('systemd_unit schema', () => {
  it('validates unit and drop-in names', () => {
    expect(spec({ name: 'consul.service', content: UNIT })).toMatchObject({ mode: '0644', state: 'present' });
    for (const name of ['consul', 'consul.conf', 'a b.service', 'x;y.service', '../x.service']) {
      expect(systemdUnitResource.schema.safeParse({ name, content: '' }).success).toBe(false);
    }
    expect(systemdUnitResource.schema.safeParse({ name: 'haproxy.service', dropin: '10-confd' }).success).toBe(false);
    expect(systemdUnitResource.schema.safeParse({ name: 'haproxy.service', dropin: '../x.conf' }).success).toBe(false);
  });
  it('requires exactly one of content and src', () => {
    expect(systemdUnitResource.check!(spec({ name: 'a.service' }))).toMatch(/exactly one/);
    expect(systemdUnitResource.check!(spec({ name: 'a.service', content: 'x', src: 'a.j2' }))).toMatch(/exactly one/);
    expect(systemdUnitResource.check!(spec({ name: 'a.service', src: 'a.j2' }))).toBeNull();
    expect(systemdUnitResource.check!(spec({ name: 'a.service', state: 'absent' }))).toBeNull();
  });
});

describe('systemd_unit dest/id/facts/prepare', () => {
  it('places units and drop-ins', () => {
    expect(unitDest({ name: 'consul.service' })).toBe('/etc/systemd/system/consul.service');
    expect(unitDest({ name: 'haproxy.service', dropin: '10-confd.conf' })).toBe('/etc/systemd/system/haproxy.service.d/10-confd.conf');
    const s = spec({ name: 'haproxy.service', dropin: '10-confd.conf', content: 'x' });
    expect(systemdUnitResource.id(s)).toBe('systemd_unit /etc/systemd/system/haproxy.service.d/10-confd.conf');
    expect(systemdUnitResource.facts(s)).toEqual([
      { kind: 'stat', path: '/etc/systemd/system/haproxy.service.d/10-confd.conf' },
      { kind: 'sha256', path: '/etc/systemd/system/haproxy.service.d/10-confd.conf' },
    ]);
  });
  it('renders src into content', async () => {
    const ctx = { renderTemplate: async (src: string) => `rendered ${src}` } as unknown as PrepareContext;
    const out = await systemdUnitResource.prepare!(spec({ name: 'consul.service', src: 'consul.service.j2' }), ctx);
    expect(out).toEqual({ name: 'consul.service', content: 'rendered consul.service.j2', mode: '0644', state: 'present' });
    expect(systemdUnitResource.check!(out)).toBeNull();
  });
});

describe('systemd_unit diff', () => {
  const dest = '/etc/systemd/system/consul.service';
  const f = (stat: PathStat | null, sha: string | null) => facts({ stat: new Map([[dest, stat]]), sha256: new Map([[dest, sha]]) });
  it.each([
    { name: 'missing', stat: null, sha: null, action: 'create', reason: 'does not exist' },
    { name: 'in sync', stat: st(), sha: sha256(UNIT), action: null },
    { name: 'content differs', stat: st(), sha: sha256('old'), action: 'update', reason: 'content differs' },
    { name: 'mode differs', stat: st('0755'), sha: sha256(UNIT), action: 'update', reason: 'mode differs' },
  ])('$name', (c) => {
    const ch = systemdUnitResource.diff(spec({ name: 'consul.service', content: UNIT }), f(c.stat, c.sha), dctx);
    if (c.action === null) return expect(ch).toBeNull();
    expect(ch).toMatchObject({ action: c.action, reason: c.reason, kind: 'systemd_unit', id: `systemd_unit ${dest}` });
  });
  it('absent', () => {
    expect(systemdUnitResource.diff(spec({ name: 'consul.service', state: 'absent' }), f(st(), 'x'), dctx)?.action).toBe('delete');
    expect(systemdUnitResource.diff(spec({ name: 'consul.service', state: 'absent' }), f(null, null), dctx)).toBeNull();
  });
});

describe('systemd_unit apply fragment', () => {
  it('creates the drop-in directory (quoted) and marks a daemon-reload', () => {
    const s = spec({ name: 'my@x.service', dropin: '10-a.conf', content: "it's" });
    const ch = systemdUnitResource.diff(s, facts({}), dctx)!;
    const fr = systemdUnitResource.apply(ch, sctx).text;
    expect(fr).toContain("mkdir -p -- /etc/systemd/system/my@x.service.d");
    expect(fr).toContain('_DR=1');
    expect(systemdUnitResource.apply(systemdUnitResource.diff(spec({ name: 'a.service', content: 'x' }), facts({}), dctx)!, sctx).text).not.toContain('mkdir');
  });

  it.runIf(isRoot)('installs a drop-in into a temp tree, sets _DR only when it changed', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'prov-unit-'));
    try {
      const s = spec({ name: 'haproxy.service', dropin: '10-confd.conf', content: UNIT });
      const ch = systemdUnitResource.diff(s, facts({}), dctx)!;
      // Same fragment, aimed at a temp directory instead of /etc/systemd/system.
      const dest = path.join(root, "odd dir's", 'haproxy.service.d', '10-confd.conf');
      const moved = { ...ch, spec: { ...(ch.spec as ManagedFile), dest } };
      const r = runFragment(systemdUnitResource.apply(moved, sctx));
      expect(r).toMatchObject({ status: 0, changed: true, daemonReload: true });
      expect(readFileSync(dest, 'utf8')).toBe(UNIT);
      expect(statSync(dest).mode & 0o777).toBe(0o644);
      const again = runFragment(systemdUnitResource.apply(moved, sctx));
      expect(again).toMatchObject({ status: 0, changed: false, daemonReload: false });
      // An earlier step's change in the same function is kept.
      const kept = runFragment(`_changed\n${systemdUnitResource.apply(moved, sctx)}`);
      expect(kept).toMatchObject({ changed: true, daemonReload: false });
      const absent = { ...moved, action: 'delete' as const, spec: { ...(moved.spec as ManagedFile), state: 'absent' as const } };
      expect(runFragment(systemdUnitResource.apply(absent, sctx))).toMatchObject({ status: 0, changed: true, daemonReload: true });
      expect(existsSync(dest)).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
