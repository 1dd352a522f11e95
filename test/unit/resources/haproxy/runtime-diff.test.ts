import { describe, expect, it } from 'vitest';
import { declared, type DeclaredServer } from '../../../../src/resources/haproxy/declared.js';
import { diffRuntime, diffStateFile, restoredView } from '../../../../src/resources/haproxy/runtime-diff.js';
import type { ServerState } from '../../../../src/resources/haproxy/server-state.js';

const decl = declared({
  static_backends: [
    {
      name: 'pool',
      servers: [
        { name: 'a', address: '10.0.0.100', port: 8090 },
        { name: 'b', address: '10.0.0.101', port: 8080, weight: 3, state: 'drain' },
      ],
    },
  ],
  dynamic_backends: [{ name: 'tomcat', mode: 'dns', slots: 2 }, { name: 'payments', mode: 'template' }],
  dynamic_prefix: 'bk_',
  default_slots: 64,
});

function srv(backend: string, server: string, over: Partial<ServerState> = {}): ServerState {
  return { backend, server, addr: '10.0.0.100', opState: 2, admin: 0, uweight: 1, iweight: 1, fqdn: '-', port: 8090, srvrecord: '-', ...over };
}

const inSync = (): ServerState[] => [
  srv('pool', 'a'),
  srv('pool', 'b', { addr: '10.0.0.101', port: 8080, uweight: 3, admin: 0x08 }),
  srv('bk_tomcat', 'tomcat1', { admin: 0x20 }),
  srv('bk_tomcat', 'tomcat2', { admin: 0x20 }),
];
const BACKENDS = ['stats', 'pool', 'bk_tomcat', 'bk_payments'];

describe('declared', () => {
  it('takes static servers with defaults, and one server-template per dns-mode backend', () => {
    expect(decl.servers).toEqual([
      { backend: 'pool', name: 'a', address: '10.0.0.100', port: 8090, weight: 1, state: 'ready' },
      { backend: 'pool', name: 'b', address: '10.0.0.101', port: 8080, weight: 3, state: 'drain' },
    ]);
    expect(decl.templates).toEqual([{ backend: 'bk_tomcat', prefix: 'tomcat', slots: 2 }]);
    expect(decl.backends).toEqual(['pool', 'bk_tomcat', 'bk_payments']);
  });
});

describe('diffRuntime', () => {
  it('is empty when what runs is what is declared', () => {
    expect(diffRuntime(decl, { servers: inSync(), backends: BACKENDS })).toEqual({ attrs: [], notes: [], commands: [], reload: [] });
  });

  it('an old port is drift repaired by one socket command, no reload', () => {
    const servers = inSync();
    servers[0] = srv('pool', 'a', { port: 8080 });
    const d = diffRuntime(decl, { servers, backends: BACKENDS });
    expect(d.notes).toEqual(['pool/a runs 10.0.0.100:8080, declared 10.0.0.100:8090']);
    expect(d.attrs).toEqual([{ field: 'pool/a', before: '10.0.0.100:8080 weight 1 ready', after: '10.0.0.100:8090 weight 1 ready' }]);
    expect(d.commands).toEqual(['set server pool/a addr 10.0.0.100 port 8090']);
    expect(d.reload).toEqual([]);
  });

  it('MAINT by hand, a weight and a lost drain: weight before state, each one command', () => {
    const servers = inSync();
    servers[0] = srv('pool', 'a', { admin: 0x01 });
    servers[1] = srv('pool', 'b', { addr: '10.0.0.101', port: 8080, uweight: 1, admin: 0 });
    const d = diffRuntime(decl, { servers, backends: BACKENDS });
    expect(d.notes).toEqual(['pool/a MAINT, declared ready', 'pool/b weight 1, declared 3; READY, declared drain']);
    expect(d.commands).toEqual(['set server pool/a state ready', 'set server pool/b weight 3', 'set server pool/b state drain']);
    expect(d.reload).toEqual([]);
  });

  it('a missing backend, a missing or undeclared server and a slot count need a reload', () => {
    const servers = [srv('pool', 'a'), srv('pool', 'x', { port: 9000 }), srv('bk_tomcat', 'tomcat1')];
    const d = diffRuntime(decl, { servers, backends: ['pool', 'bk_tomcat'] });
    expect(d.notes).toEqual([
      'backend bk_payments is not loaded (reload pending)',
      'pool/b is not running (reload pending)',
      'pool/x runs but is not declared (reload pending)',
      'bk_tomcat runs 1 tomcat slots, declared 2 (reload pending)',
    ]);
    expect(d.reload).toHaveLength(4);
    expect(d.commands).toEqual([]);
  });

  it('a server named by host name: the fqdn is compared, and a change needs a reload', () => {
    const byName = declared({
      static_backends: [{ name: 'pool', servers: [{ name: 'h', address: 'app.example', port: 80 }] }],
      dynamic_backends: [],
      dynamic_prefix: 'bk_',
      default_slots: 1,
    });
    const d = diffRuntime(byName, { servers: [srv('pool', 'h', { addr: '10.1.1.1', fqdn: 'old.example', port: 80 })], backends: ['pool'] });
    expect(d.notes).toEqual(['pool/h runs old.example:80, declared app.example:80']);
    expect(d.reload).toEqual(['server pool/h address']);
  });
});

describe('restoredView (HAProxy 2.6 state-file rules)', () => {
  const a: DeclaredServer = decl.servers[0]!;
  it('the saved port wins over the configuration: the issue\'s stale 8080', () => {
    expect(restoredView(srv('pool', 'a', { port: 8080 }), a).port).toBe(8080);
  });
  it('forced MAINT and DRAIN come back; a saved CMAINT (disabled removed from the config) does not', () => {
    expect(restoredView(srv('pool', 'a', { admin: 0x01 }), a).label).toBe('maint');
    expect(restoredView(srv('pool', 'a', { admin: 0x05 }), a).label).toBe('ready');
    expect(restoredView(srv('pool', 'a', { admin: 0x08 }), a).label).toBe('drain');
    expect(restoredView(srv('pool', 'a', { admin: 0x08, iweight: 0, uweight: 0 }), a).label).toBe('ready');
  });
  it('the saved weight comes back only while the configured weight is the same', () => {
    expect(restoredView(srv('pool', 'a', { uweight: 5 }), a).weight).toBe(5);
    expect(restoredView(srv('pool', 'a', { uweight: 5, iweight: 7 }), a).weight).toBe(1);
  });
});

describe('restoredView with weight and `disabled` in haproxy.cfg (as declared)', () => {
  const d = (over: Partial<DeclaredServer>): DeclaredServer => ({ backend: 'pool', name: 'a', address: '10.0.0.100', port: 8090, weight: 1, state: 'ready', ...over });
  it('a weight set through the socket and then written to the config: the config weight, whatever was saved', () => {
    // saved after `set server pool/a weight 3` under the old config (weight 1)
    expect(restoredView(srv('pool', 'a', { uweight: 3, iweight: 1 }), d({ weight: 3 })).weight).toBe(3);
    // saved after a reload under the new config: the running weight comes back
    expect(restoredView(srv('pool', 'a', { uweight: 3, iweight: 3 }), d({ weight: 3 })).weight).toBe(3);
    // changed by hand at runtime, config unchanged: the hand-set weight comes back (drift)
    expect(restoredView(srv('pool', 'a', { uweight: 5, iweight: 3 }), d({ weight: 3 })).weight).toBe(5);
  });
  it('maint through the socket, then `disabled` in the config: maint after a reload; and back to ready', () => {
    // FMAINT saved, config now says disabled (CMAINT differs): the config wins, maint
    expect(restoredView(srv('pool', 'a', { admin: 0x01 }), d({ state: 'maint' })).label).toBe('maint');
    // reloaded with disabled (CMAINT|FMAINT), still declared maint
    expect(restoredView(srv('pool', 'a', { admin: 0x05 }), d({ state: 'maint' })).label).toBe('maint');
    // `set server state ready` under `disabled` (CMAINT only), config still disabled: ready comes back (drift)
    expect(restoredView(srv('pool', 'a', { admin: 0x04 }), d({ state: 'maint' })).label).toBe('ready');
    // back to ready: `disabled` removed from the config, CMAINT saved: the config wins
    expect(restoredView(srv('pool', 'a', { admin: 0x04 }), d({})).label).toBe('ready');
    expect(restoredView(srv('pool', 'a', { admin: 0x05 }), d({})).label).toBe('ready');
  });
  it('drain has no config keyword: a saved forced DRAIN comes back, also with a configured weight', () => {
    expect(restoredView(srv('pool', 'a', { admin: 0x08, uweight: 3, iweight: 1 }), d({ weight: 3, state: 'drain' }))).toMatchObject({ label: 'drain', weight: 3 });
    expect(restoredView(srv('pool', 'a', { admin: 0x08, iweight: 0, uweight: 0 }), d({ weight: 0 })).label).toBe('drain');
  });
});

describe('diffStateFile', () => {
  it('flags the saved line that would bring back an old port or a hand-made MAINT', () => {
    const saved = [srv('pool', 'a', { port: 8080 }), srv('pool', 'b', { addr: '10.0.0.101', port: 8080, uweight: 3, admin: 0x08 }), srv('old', 'gone')];
    const d = diffStateFile(decl, saved, '/var/lib/haproxy/server-state');
    expect(d.notes).toEqual(['/var/lib/haproxy/server-state: the next reload or restart would give pool/a 10.0.0.100:8080, declared 10.0.0.100:8090']);
    expect(d.stale).toEqual([['pool', 'a']]);
    expect(diffStateFile(decl, [srv('pool', 'a', { admin: 0x01 })], '/s').stale).toEqual([['pool', 'a']]);
    expect(diffStateFile(decl, inSync(), '/s').stale).toEqual([]);
  });
});
