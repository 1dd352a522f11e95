import { describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isEnabledState, isRunningState, serviceResource, unitName, type ServiceSpec } from '../../../src/resources/service.js';
import { notFoundUnit } from '../../../src/resources/facts/unit.js';
import type { UnitState } from '../../../src/resources/facts/types.js';
import { dctx, facts, sctx } from './facts-fixture.js';
import { runFragment } from './run-sh.js';

const spec = (body: Record<string, unknown>): ServiceSpec => serviceResource.schema.parse(body);
const unit = (p: Partial<UnitState>): UnitState => ({ ...notFoundUnit('haproxy.service'), loadState: 'loaded', unitFileState: 'disabled', ...p });
const change = (s: ServiceSpec) => ({ step: 0, kind: 'service', id: serviceResource.id(s), action: 'update' as const, reason: '', attrs: [], spec: s });

describe('service schema/names', () => {
  it('appends .service when there is no unit suffix', () => {
    expect(unitName('haproxy')).toBe('haproxy.service');
    expect(unitName('consul-template')).toBe('consul-template.service');
    expect(unitName('fstrim.timer')).toBe('fstrim.timer');
    expect(serviceResource.id(spec({ name: 'haproxy', state: 'started' }))).toBe('service haproxy.service');
    expect(serviceResource.facts(spec({ name: 'haproxy', state: 'started' }))).toEqual([{ kind: 'unit', name: 'haproxy.service' }]);
  });
  it('rejects bad names, unknown states and no-op steps', () => {
    expect(serviceResource.schema.safeParse({ name: 'a b', state: 'started' }).success).toBe(false);
    expect(serviceResource.schema.safeParse({ name: 'a', state: 'running' }).success).toBe(false);
    expect(serviceResource.check!(spec({ name: 'a' }))).toMatch(/enabled/);
    expect(serviceResource.check!(spec({ name: 'a', enabled: false }))).toBeNull();
    // restarted/reloaded mean "now", which only a notified handler knows.
    expect(serviceResource.check!(spec({ name: 'a', state: 'restarted' }))).toMatch(/^`state: restarted` belongs in a handler: .*use `state: started` here, and `notify` a handler/);
    expect(serviceResource.check!(spec({ name: 'a', state: 'reloaded', enabled: true }))).toMatch(/^`state: reloaded` belongs in a handler/);
    expect(serviceResource.check!(spec({ name: 'a', state: 'started' }))).toBeNull();
  });
  it('classifies unit states', () => {
    expect(isEnabledState(unit({ unitFileState: 'static' }))).toBe(true);
    expect(isEnabledState(unit({ unitFileState: 'disabled' }))).toBe(false);
    expect(isEnabledState(notFoundUnit('x.service'))).toBe(false);
    expect(isRunningState(unit({ activeState: 'reloading' }))).toBe(true);
    expect(isRunningState(unit({ activeState: 'failed' }))).toBe(false);
  });
});

describe('service diff', () => {
  it.each([
    { name: 'enabled and running', body: { name: 'haproxy', enabled: true, state: 'started' }, u: unit({ unitFileState: 'enabled', activeState: 'active' }), attrs: null },
    { name: 'static cannot be enabled: no change', body: { name: 'haproxy', enabled: true }, u: unit({ unitFileState: 'static' }), attrs: null },
    {
      name: 'disabled and stopped', body: { name: 'haproxy', enabled: true, state: 'started' }, u: unit({ activeState: 'inactive', subState: 'dead' }),
      attrs: [{ field: 'enabled', before: 'disabled', after: 'enabled' }, { field: 'state', before: 'inactive (dead)', after: 'active' }],
      reason: 'not enabled (disabled), not running (inactive)',
    },
    {
      name: 'not found yet (created earlier in the run)', body: { name: 'consul', enabled: true, state: 'started' }, u: undefined,
      attrs: [{ field: 'enabled', before: null, after: 'enabled' }, { field: 'state', before: null, after: 'active' }], reason: 'unit not found (yet)',
    },
    { name: 'restarted as a step behaves like started (running)', body: { name: 'haproxy', state: 'restarted' }, u: unit({ activeState: 'active' }), attrs: null },
    { name: 'reloaded as a step behaves like started (failed)', body: { name: 'haproxy', state: 'reloaded' }, u: unit({ activeState: 'failed', subState: 'failed' }), attrs: [{ field: 'state', before: 'failed (failed)', after: 'active' }] },
    { name: 'activating counts as started', body: { name: 'haproxy', state: 'started' }, u: unit({ activeState: 'activating' }), attrs: null },
    { name: 'stop a running unit', body: { name: 'haproxy', state: 'stopped' }, u: unit({ activeState: 'active', subState: 'running' }), attrs: [{ field: 'state', before: 'active (running)', after: 'inactive' }] },
    { name: 'stopped already (failed)', body: { name: 'haproxy', state: 'stopped' }, u: unit({ activeState: 'failed' }), attrs: null },
    { name: 'disable an enabled unit', body: { name: 'haproxy', enabled: false }, u: unit({ unitFileState: 'enabled' }), attrs: [{ field: 'enabled', before: 'enabled', after: 'disabled' }] },
    { name: 'disable a static unit: no change', body: { name: 'haproxy', enabled: false }, u: unit({ unitFileState: 'static' }), attrs: null },
  ])('$name', (c) => {
    const s = spec(c.body);
    const f = facts({ unit: c.u ? new Map([[unitName(s.name), c.u]]) : new Map() });
    const ch = serviceResource.diff(s, f, dctx);
    if (c.attrs === null) return expect(ch).toBeNull();
    expect(ch?.attrs).toEqual(c.attrs);
    expect(ch?.action).toBe('update');
    if (c.reason) expect(ch?.reason).toBe(c.reason);
  });
});

/** A stub systemctl: unit state in files, every call logged. */
function stub(state: { enabled: string; active: boolean; startFails?: boolean }): { dir: string; log: () => string[] } {
  const dir = mkdtempSync(path.join(tmpdir(), 'prov-svc-'));
  writeFileSync(path.join(dir, 'enabled'), state.enabled);
  writeFileSync(path.join(dir, 'active'), state.active ? '1' : '0');
  writeFileSync(path.join(dir, 'log'), '');
  const script = `#!/bin/sh
D=${dir}
echo "systemctl $*" >> "$D/log"
verb=$1; shift
[ "$1" = --quiet ] && { q=1; shift; }
[ "$1" = -- ] && shift
case "$verb" in
  is-enabled) e=$(cat "$D/enabled"); [ -n "$q" ] || echo "$e"; case "$e" in enabled|static) exit 0;; *) exit 1;; esac ;;
  is-active) [ "$(cat "$D/active")" = 1 ] ;;
  enable) echo enabled > "$D/enabled" ;;
  disable) echo disabled > "$D/enabled" ;;
  start|restart|try-reload-or-restart) ${state.startFails ? 'exit 1' : 'echo 1 > "$D/active"'} ;;
  stop) echo 0 > "$D/active" ;;
  status) echo "× $* - failed (Result: exit-code)"; exit 3 ;;
  daemon-reload) : ;;
esac
`;
  writeFileSync(path.join(dir, 'systemctl'), script);
  writeFileSync(path.join(dir, 'journalctl'), `#!/bin/sh\necho "journal: $*"\n`);
  chmodSync(path.join(dir, 'systemctl'), 0o755);
  chmodSync(path.join(dir, 'journalctl'), 0o755);
  return { dir, log: () => readFileSync(path.join(dir, 'log'), 'utf8').split('\n').filter(Boolean) };
}

describe('service apply fragment', () => {
  const env = (d: string) => ({ PATH: `${d}:${process.env.PATH}` });

  it('quotes the unit name', () => {
    // The schema rejects such names; quoting is the second line of defence.
    const odd = { name: "a@b c'd", state: 'started' } as ServiceSpec;
    expect(serviceResource.apply(change(odd), sctx).text).toContain(`_unit start 'a@b c'\\''d.service'`);
  });

  it('reloads the daemon when pending, enables and starts, then is a no-op', () => {
    const st = stub({ enabled: 'disabled', active: false });
    try {
      const fr = serviceResource.apply(change(spec({ name: 'consul', enabled: true, state: 'started' })), sctx);
      const r = runFragment(fr, { env: env(st.dir), pre: '_DR=1' });
      expect(r).toMatchObject({ status: 0, changed: true, daemonReload: false });
      expect(st.log()).toEqual([
        'systemctl daemon-reload',
        'systemctl is-enabled --quiet -- consul.service',
        'systemctl enable --quiet -- consul.service',
        'systemctl is-active --quiet -- consul.service',
        'systemctl start -- consul.service',
      ]);
      const again = runFragment(fr, { env: env(st.dir) });
      expect(again).toMatchObject({ status: 0, changed: false });
      expect(st.log().slice(5)).toEqual(['systemctl is-enabled --quiet -- consul.service', 'systemctl is-active --quiet -- consul.service']);
    } finally {
      rmSync(st.dir, { recursive: true, force: true });
    }
  });

  it('fails with systemctl status on stderr when the unit does not start', () => {
    const st = stub({ enabled: 'enabled', active: false, startFails: true });
    try {
      const r = runFragment(serviceResource.apply(change(spec({ name: 'consul', state: 'started' })), sctx), { env: env(st.dir) });
      expect(r.status).not.toBe(0);
      expect(r.changed).toBe(false);
      expect(r.stderr).toContain('consul.service failed to start:');
      expect(r.stderr).toContain('× --no-pager -l -n 20 -- consul.service - failed');
    } finally {
      rmSync(st.dir, { recursive: true, force: true });
    }
  });

  it('disables and stops', () => {
    const st = stub({ enabled: 'enabled', active: true });
    try {
      const r = runFragment(serviceResource.apply(change(spec({ name: 'consul', enabled: false, state: 'stopped' })), sctx), { env: env(st.dir) });
      expect(r).toMatchObject({ status: 0, changed: true });
      expect(st.log()).toContain('systemctl disable --quiet -- consul.service');
      expect(st.log()).toContain('systemctl stop -- consul.service');
    } finally {
      rmSync(st.dir, { recursive: true, force: true });
    }
  });

  it('handlers: restart, try-reload-or-restart, with status and journal on failure', () => {
    expect(serviceResource.handler!(spec({ name: 'haproxy', state: 'restarted' }), sctx).text).toContain('_unit restart haproxy.service');
    expect(serviceResource.handler!(spec({ name: 'haproxy', enabled: true }), sctx).text).toContain('_unit restart haproxy.service');
    expect(serviceResource.handler!(spec({ name: 'haproxy', state: 'reloaded' }), sctx).text).toContain('_unit try-reload-or-restart haproxy.service');
    const st = stub({ enabled: 'enabled', active: true, startFails: true });
    try {
      const r = runFragment(serviceResource.handler!(spec({ name: 'haproxy', state: 'reloaded' }), sctx), { env: env(st.dir), pre: '_DR=1' });
      expect(r.status).not.toBe(0);
      expect(st.log()[0]).toBe('systemctl daemon-reload');
      expect(r.stderr).toContain('systemctl try-reload-or-restart haproxy.service failed:');
      expect(r.stderr).toContain('journal: -u haproxy.service -n 20 --no-pager');
      const ok = stub({ enabled: 'enabled', active: true });
      try {
        expect(runFragment(serviceResource.handler!(spec({ name: 'haproxy', state: 'restarted' }), sctx), { env: env(ok.dir) })).toMatchObject({ status: 0, changed: true });
      } finally {
        rmSync(ok.dir, { recursive: true, force: true });
      }
    } finally {
      rmSync(st.dir, { recursive: true, force: true });
    }
  });
});
