import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildApplyScript } from '../../../src/engine/apply-script.js';
import { diffAll, factRequests } from '../../../src/engine/host-run.js';
import { handlerLoader, installedFiles, loadedAt, loadPendingChanges, withLoadPending } from '../../../src/engine/load-pending.js';
import type { HostJob, ResolvedHandler, ResolvedStep } from '../../../src/engine/types.js';
import { planProbe, probeScript } from '../../../src/resources/facts/index.js';
import { statCollector } from '../../../src/resources/facts/path.js';
import type { UnitState } from '../../../src/resources/facts/types.js';
import { notFoundUnit, unitCollector } from '../../../src/resources/facts/unit.js';
import { directoryResource } from '../../../src/resources/directory.js';
import { haproxyServersResource } from '../../../src/resources/haproxy-servers.js';
import { serviceResource } from '../../../src/resources/service.js';
import { templateResource } from '../../../src/resources/template.js';
import type { ResourceType } from '../../../src/resources/types.js';
import { facts } from '../resources/facts-fixture.js';
import { recorded, sh } from '../resources/run-sh.js';

const T0 = 1795927940; // dnsmasq's start in the recording
const DNSMASQ = '/etc/dnsmasq.d/10-consul';

function step(index: number, type: ResourceType, spec: Record<string, unknown>, notify: string[] = []): ResolvedStep {
  const s = type.schema.parse(spec);
  return { index, name: `step ${index}`, kind: type.kind, type, spec: s, notify, where: 'test' };
}

function handler(name: string, body: Record<string, unknown>): [string, ResolvedHandler] {
  return [name, { name, kind: 'service', type: serviceResource, spec: serviceResource.schema.parse(body) }];
}

function job(steps: ResolvedStep[]): HostJob {
  return {
    name: 'lb-1',
    steps,
    handlers: new Map([
      handler('restart dnsmasq', { name: 'dnsmasq.service', state: 'restarted' }),
      handler('reload consul-template', { name: 'consul-template.service', state: 'reloaded' }),
      handler('reload haproxy', { name: 'haproxy.service', state: 'reloaded' }),
      handler('start x', { name: 'x.service', state: 'started' }),
    ]),
    validateSets: new Map(),
    sudo: false,
    lockFile: '/run/lock/provision.lock',
    connect: async () => {
      throw new Error('not connected in unit tests');
    },
  };
}

const dnsmasqStep = (index = 0) =>
  step(index, templateResource, { src: 'dnsmasq/10-consul.njk', dest: DNSMASQ, mode: '0644', owner: 'root', group: 'root' }, ['restart dnsmasq']);
const active = (p: Partial<UnitState>): UnitState => ({ ...notFoundUnit(p.id ?? 'dnsmasq.service'), loadState: 'loaded', activeState: 'active', subState: 'running', ...p });
const statAt = (mtime: number) => ({ type: 'f', mode: '0644', owner: 'root', group: 'root', size: 10, target: null, mtime });

describe('unit timestamps (systemctl show --timestamp=unix)', () => {
  it('asks for the start and reload facts in the same one systemctl show', () => {
    expect(unitCollector.script(['dnsmasq.service']).text).toBe(
      'systemctl show --no-pager --timestamp=unix -p Id,LoadState,ActiveState,SubState,UnitFileState,FragmentPath,DropInPaths,ExecMainStartTimestamp,StateChangeTimestamp,ReloadResult -- dnsmasq.service',
    );
  });
  it('parses the recorded systemd 252 output', () => {
    const m = unitCollector.parse(recorded('systemctl-show-timestamps.txt'), ['dnsmasq.service', 'ssh.service', 'consul.service']);
    expect(m.get('dnsmasq.service')).toMatchObject({ activeState: 'active', mainStart: 1795927940, stateChange: 1795927949, reloadResult: 'success' });
    expect(m.get('ssh.service')).toMatchObject({ mainStart: 1795927928, stateChange: 1795927951, reloadResult: 'exit-code' });
    const absent = m.get('consul.service')!;
    expect(absent.loadState).toBe('not-found');
    expect(absent.mainStart).toBeUndefined();
    expect(absent.stateChange).toBeUndefined();
  });
});

describe('stat mtime (one find over every path)', () => {
  it('reads whole-second modification times from a real find', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'provision-mtime-'));
    try {
      const f = path.join(dir, 'a file');
      writeFileSync(f, 'x');
      utimesSync(f, 1795927950, 1795927950.75);
      const out = sh(`{ ${statCollector.script([f, path.join(dir, 'missing')])}\n} 2>/dev/null`).stdout;
      const m = statCollector.parse(out, [f, path.join(dir, 'missing')]);
      expect(m.get(f)).toMatchObject({ type: 'f', mtime: 1795927950 });
      expect(m.get(path.join(dir, 'missing'))).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('which files belong to which unit', () => {
  it('maps service handlers to a unit and a verb; other handlers load nothing', () => {
    const j = job([]);
    expect(handlerLoader(j.handlers.get('restart dnsmasq')!)).toEqual({ handler: 'restart dnsmasq', unit: 'dnsmasq.service', verb: 'restart' });
    expect(handlerLoader(j.handlers.get('reload consul-template')!)?.verb).toBe('reload');
    expect(handlerLoader(j.handlers.get('start x')!)).toBeNull();
  });
  it('a step installs the files whose stat and content it probes (not a directory)', () => {
    expect(installedFiles(dnsmasqStep())).toEqual([DNSMASQ]);
    expect(installedFiles(step(1, directoryResource, { path: '/etc/dnsmasq.d' }, ['restart dnsmasq']))).toEqual([]);
  });
  it('the probe asks systemd about the notified units, in its one systemctl show', () => {
    const j = job([dnsmasqStep(), step(1, serviceResource, { name: 'dnsmasq.service', state: 'started' })]);
    const script = probeScript(planProbe(factRequests(j, false)), 'n').text;
    expect(script.match(/systemctl show/g)).toHaveLength(1);
    expect(script).toContain('-- dnsmasq.service\n');
    expect(script.match(/\bfind /g)).toHaveLength(1);
  });
});

describe('loadedAt', () => {
  it('restart: the main process start; reload: the last reload unless it failed', () => {
    const u = active({ mainStart: 100, stateChange: 150, reloadResult: 'success' });
    expect(loadedAt(u, 'restart')?.at).toBe(100);
    expect(loadedAt(u, 'reload')).toEqual({ at: 150, said: 'dnsmasq.service last reloaded at 1970-01-01T00:02:30Z' });
    expect(loadedAt({ ...u, reloadResult: 'exit-code' }, 'reload')).toEqual({
      at: 100,
      said: 'dnsmasq.service started at 1970-01-01T00:01:40Z (its last reload failed: exit-code)',
    });
    expect(loadedAt({ ...u, activeState: 'failed' }, 'restart')).toBeNull();
    expect(loadedAt({ ...u, mainStart: undefined }, 'restart')).toBeNull();
  });
});

const unitFacts = (u: UnitState) => new Map([[u.id, u]]);

describe('loadPendingChanges', () => {
  it('a file changed after the start is restart pending, repaired by its handler', () => {
    const j = job([dnsmasqStep()]);
    const f = facts({ stat: new Map([[DNSMASQ, statAt(T0 + 9)]]), unit: unitFacts(active({ mainStart: T0, stateChange: T0 })) });
    const [c] = loadPendingChanges(j, f, []);
    expect(c).toMatchObject({ step: 0, kind: 'template', id: `template ${DNSMASQ}`, action: 'update' });
    expect(c!.reason).toBe(
      `restart pending: ${DNSMASQ} changed at 2026-11-29T04:52:29Z, dnsmasq.service started at 2026-11-29T04:52:20Z (repair: handler "restart dnsmasq")`,
    );
    expect(c!.attrs).toEqual([{ field: `dnsmasq.service loaded ${DNSMASQ}`, before: '2026-11-29T04:52:20Z', after: '2026-11-29T04:52:29Z' }]);
  });

  it('a file older than the start, or within the slack, or a unit not running: nothing', () => {
    const j = job([dnsmasqStep()]);
    const at = (m: number, u: Partial<UnitState> = {}) =>
      loadPendingChanges(j, facts({ stat: new Map([[DNSMASQ, statAt(m)]]), unit: unitFacts(active({ mainStart: T0, ...u })) }), []);
    expect(at(T0 - 100)).toEqual([]);
    expect(at(T0 + 2)).toEqual([]);
    expect(at(T0 + 3)).toHaveLength(1);
    expect(at(T0 + 60, { activeState: 'inactive' })).toEqual([]);
    expect(at(T0 + 60, { activeState: 'failed' })).toEqual([]);
    // No stat (file absent) or no unit facts: nothing to compare.
    expect(loadPendingChanges(j, facts({ unit: unitFacts(active({ mainStart: T0 })) }), [])).toEqual([]);
    expect(loadPendingChanges(j, facts({ stat: new Map([[DNSMASQ, statAt(T0 + 60)]]) }), [])).toEqual([]);
  });

  it('a reload handler compares with the last reload, or the start when that reload failed', () => {
    const CT = '/etc/consul-template.d/config.hcl';
    const j = job([step(0, templateResource, { src: 'x.njk', dest: CT }, ['reload consul-template'])]);
    const run = (u: Partial<UnitState>) =>
      loadPendingChanges(j, facts({ stat: new Map([[CT, statAt(T0 + 20)]]), unit: unitFacts(active({ id: 'consul-template.service', mainStart: T0, ...u })) }), []);
    expect(run({ stateChange: T0 + 30, reloadResult: 'success' })).toEqual([]);
    expect(run({ stateChange: T0 + 10, reloadResult: 'success' })[0]!.reason).toMatch(
      /^reload pending: \/etc\/consul-template\.d\/config\.hcl changed at .*, consul-template\.service last reloaded at 2026-11-29T04:52:30Z \(repair: handler "reload consul-template"\)$/,
    );
    expect(run({ stateChange: T0 + 30, reloadResult: 'exit-code' })[0]!.reason).toMatch(/started at 2026-11-29T04:52:20Z \(its last reload failed: exit-code\)/);
  });

  it('skips steps that have a change of their own, and units another step watches', () => {
    const j = job([dnsmasqStep()]);
    const f = facts({ stat: new Map([[DNSMASQ, statAt(T0 + 60)]]), unit: unitFacts(active({ mainStart: T0 })) });
    const own = { step: 0, kind: 'template', id: 'x', action: 'update' as const, reason: 'content differs', attrs: [], spec: {} };
    expect(loadPendingChanges(j, f, [own])).toEqual([]);

    const HA = '/etc/haproxy/haproxy.cfg';
    const hj = job([
      step(0, templateResource, { src: 'h.njk', dest: HA }, ['reload haproxy']),
      step(1, haproxyServersResource, { socket: '/run/haproxy/admin.sock', state_file: '/var/lib/haproxy/server-state', master_socket: '/run/haproxy-master.sock' }),
    ]);
    const hf = facts({ stat: new Map([[HA, statAt(T0 + 60)]]), unit: unitFacts(active({ id: 'haproxy.service', mainStart: T0 })) });
    expect(loadPendingChanges(hj, hf, [])).toEqual([]);
  });

  it('diffAll reports it with the other changes, in step order', () => {
    const j = job([dnsmasqStep(0), step(1, serviceResource, { name: 'dnsmasq.service', state: 'started' })]);
    const f = facts({
      stat: new Map([[DNSMASQ, statAt(T0 + 60)]]),
      sha256: new Map([[DNSMASQ, 'a'.repeat(64)]]),
      unit: unitFacts(active({ mainStart: T0, unitFileState: 'enabled' })),
    });
    // The template's bytes hash to something else: a real content change, no load-pending change.
    const withBytes = (bytes: Buffer): HostJob => ({ ...j, steps: [{ ...j.steps[0]!, spec: { ...(j.steps[0]!.spec as object), bytes } }, j.steps[1]!] });
    expect(diffAll(withBytes(Buffer.from('x')), f, false).map((c) => c.reason)).toEqual([expect.stringMatching(/content/)]);
    const same = Buffer.from('server=/consul/127.0.0.1#8600\n');
    const inSync = withBytes(same);
    f.sha256.set(DNSMASQ, createHash('sha256').update(same).digest('hex'));
    expect(diffAll(inSync, f, false).map((c) => c.reason)).toEqual([expect.stringMatching(/^restart pending: /)]);
  });
});

describe('the apply script of a load-pending change', () => {
  it('runs no file install: the step only notifies its handler, which restarts the unit', () => {
    const j = job([dnsmasqStep()]);
    const f = facts({ stat: new Map([[DNSMASQ, statAt(T0 + 60)]]), unit: unitFacts(active({ mainStart: T0 })) });
    const changes = loadPendingChanges(j, f, []);
    const script = buildApplyScript(withLoadPending(j, changes), changes, 'n0nce', { holder: 'test' }).script.text;
    expect(script).toContain('_s() {\n_changed\n}\n_run 0');
    expect(script).not.toContain(DNSMASQ);
    expect(script).toMatch(/_H0=1/);
    expect(script).toContain('_unit restart dnsmasq.service;');
    // The job itself is untouched.
    expect(j.steps[0]!.type).toBe(templateResource);
  });
  it('a unit file changed after systemd loaded it gets a daemon-reload first', () => {
    const UNIT = '/etc/systemd/system/dnsmasq.service';
    const j = job([step(0, templateResource, { src: 'u.njk', dest: UNIT }, ['restart dnsmasq'])]);
    const changes = loadPendingChanges(j, facts({ stat: new Map([[UNIT, statAt(T0 + 60)]]), unit: unitFacts(active({ mainStart: T0 })) }), []);
    const script = buildApplyScript(withLoadPending(j, changes), changes, 'n0nce', { holder: 'test' }).script.text;
    expect(script).toContain('_s() {\n_DR=1\n_changed\n}');
  });
});
