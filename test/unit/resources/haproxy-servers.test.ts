/**
 * haproxy_servers: schema, diff from facts, and the apply fragment run in a real sh. The
 * fragment talks to HAProxy through `socat`; here a stand-in socat on PATH answers from
 * recorded output and logs what it was asked (the real one is exercised on real hosts by
 * test/e2e/runtime.test.ts).
 */
import { mkdtempSync, readFileSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haproxyServersResource as R, type HaproxyServersSpec } from '../../../src/resources/haproxy-servers.js';
import { parseServerState } from '../../../src/resources/haproxy/server-state.js';
import { SH_LIB } from '../../../src/resources/sh-lib.js';
import { dctx, facts, sctx } from './facts-fixture.js';
import { recorded, sh } from './run-sh.js';
import { shVar, type Sh } from '../../../src/resources/sh.js';

const dir = mkdtempSync(path.join(tmpdir(), 'haproxy-servers-'));
const SOCK = path.join(dir, 'admin.sock');
const STATE = path.join(dir, 'server-state');
let server: Server;

beforeAll(async () => {
  server = createServer();
  await new Promise<void>((r) => server.listen(SOCK, r));
  // socat stand-in: logs the command; answers `show info`, `show servers state` from the
  // recorded file, `set server` with nothing, or the answer in $FAKE_ANSWER.
  writeFileSync(
    path.join(dir, 'socat'),
    `#!/bin/sh\nread -r cmd\nprintf '%s\\n' "$cmd" >> ${dir}/asked\ncase $cmd in\n` +
      `'show info') printf 'Name: HAProxy\\nPid: 42\\n' ;;\n` +
      `'show servers state') cat ${dir}/runtime ;;\n` +
      `*) printf '%s' "$FAKE_ANSWER" ;;\nesac\n`,
  );
  chmodSync(path.join(dir, 'socat'), 0o755);
  writeFileSync(path.join(dir, 'runtime'), recorded('haproxy-show-servers-state.txt'));
});
afterAll(() => server?.close());

function spec(over: Partial<HaproxyServersSpec> = {}): HaproxyServersSpec {
  return R.schema.parse({
    socket: SOCK,
    state_file: STATE,
    static_backends: [
      {
        name: 'bk_static',
        balance: 'roundrobin',
        servers: [
          { name: 'a', address: '127.0.0.1', port: 18090 },
          { name: 'b', address: '127.0.0.1', port: 18091 },
          { name: 'c', address: '127.0.0.1', port: 18092, state: 'drain' },
        ],
      },
    ],
    dynamic_backends: [{ name: 'tomcat', mode: 'dns', slots: 4 }, { name: 'payments', mode: 'template' }],
    default_slots: 64,
    ...over,
  });
}

const runtime = () => ({ servers: parseServerState(recorded('haproxy-show-servers-state.txt')), backends: ['bk_static', 'stats', 'bk_payments', 'bk_tomcat'] });

/** Runs the fragment with the stand-in socat; returns exit status, stderr, _C and _N. */
function run(fragment: string | Sh, env: Record<string, string> = {}) {
  const script = `${SH_LIB}\n_s() {\n${fragment}\n}\n_C=0 _N=0\n_s </dev/null\n_rc=$?\nprintf '@@C=%s N=%s\\n' "$_C" "$_N"\nexit $_rc\n`;
  const r = sh(script, { PATH: `${dir}:${process.env.PATH}`, ...env });
  const m = /@@C=(\d) N=(\d)/.exec(r.stdout);
  return { ...r, changed: m?.[1] === '1', notify: m?.[2] === '1' };
}

describe('haproxy_servers schema', () => {
  it('rejects an unknown state, a bad name, and a server declared twice', () => {
    expect(() => spec({ static_backends: [{ name: 'p', servers: [{ name: 'a', address: '10.0.0.1', port: 80, state: 'down' as never }] }] })).toThrow();
    expect(() => spec({ static_backends: [{ name: 'p q', servers: [] }] })).toThrow();
    const twice = spec({ static_backends: [{ name: 'p', servers: [{ name: 'a', address: '10.0.0.1', port: 80 }, { name: 'a', address: '10.0.0.2', port: 80 }] }] });
    expect(R.check!(twice)).toBe('server `a` appears twice in backend `p`');
  });
});

describe('haproxy_servers diff', () => {
  it('reports each drifted server in one line and plans socket commands, no reload', () => {
    const c = R.diff(spec(), facts({ haproxy: new Map([[SOCK, runtime()]]), content: new Map([[STATE, null]]) }), dctx)!;
    expect(c.reason).toBe(
      'bk_static/a runs 127.0.0.1:18080, declared 127.0.0.1:18090; weight 5, declared 1; bk_static/b MAINT, declared ready (repair: admin socket, no reload)',
    );
    expect(c.data).toEqual({
      commands: ['set server bk_static/a addr 127.0.0.1 port 18090', 'set server bk_static/a weight 1', 'set server bk_static/b state ready'],
      reload: [],
      resave: false,
      stale: [],
      restart: false,
    });
  });

  it('in sync: null', () => {
    const rt = runtime();
    rt.servers = rt.servers.map((s) => (s.backend === 'bk_static' ? { ...s, uweight: 1, admin: s.server === 'c' ? 8 : 0, port: s.server === 'a' ? 18090 : s.port } : s));
    expect(R.diff(spec(), facts({ haproxy: new Map([[SOCK, rt]]), content: new Map([[STATE, null]]) }), dctx)).toBeNull();
  });

  it('HAProxy stopped: only the state file is compared; its stale lines are to be removed', () => {
    const c = R.diff(spec(), facts({ haproxy: new Map([[SOCK, null]]), content: new Map([[STATE, Buffer.from(recorded('haproxy-server-state-file.txt'))]]) }), dctx)!;
    expect(c.reason).toContain(`${STATE}: the next reload or restart would give bk_static/a 127.0.0.1:18080, declared 127.0.0.1:18090; weight 5, declared 1`);
    expect(c.reason).toMatch(/\(repair: state file\)$/);
    expect((c.data as { stale: unknown }).stale).toEqual([['bk_static', 'a'], ['bk_static', 'b']]);
  });
});

describe('haproxy_servers apply fragment (real sh, stand-in socat)', () => {
  it('sends the commands in order, re-saves the state file, changed without notifying handlers', () => {
    writeFileSync(path.join(dir, 'asked'), '');
    const c = R.diff(spec(), facts({ haproxy: new Map([[SOCK, runtime()]]), content: new Map([[STATE, null]]) }), dctx)!;
    const r = run(R.apply(c, sctx));
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'asked'), 'utf8').split('\n').filter((l) => l.startsWith('set'))).toEqual([
      'set server bk_static/a addr 127.0.0.1 port 18090',
      'set server bk_static/a weight 1',
      'set server bk_static/b state ready',
    ]);
    // exactly what the socket answered, as the drop-in's ExecReload saves it
    expect(readFileSync(STATE, 'utf8')).toBe(recorded('haproxy-show-servers-state.txt'));
    expect([r.changed, r.notify]).toEqual([true, false]);
  });

  it('records the mtime of each file this run wrote and it applied live (the probe reads it back)', () => {
    const cfg = path.join(dir, 'haproxy.cfg');
    const other = path.join(dir, 'other.cfg');
    writeFileSync(cfg, 'x');
    writeFileSync(other, 'y');
    const c = R.diff(spec({ master_socket: path.join(dir, 'master.sock'), reload_files: [cfg] }), facts({ haproxy: new Map([[SOCK, runtime()]]), content: new Map([[STATE, null]]) }), dctx)!;
    const live = [{ path: cfg, flag: shVar('_L3') }, { path: other, flag: shVar('_L4') }];
    const r = run(R.apply(c, { ...sctx, liveFiles: live }), { _L3: '1' });
    expect(r.status, r.stderr).toBe(0);
    const rec = readFileSync(`${STATE}.provision-live`, 'utf8');
    expect(rec).toMatch(new RegExp(`^\\d+ ${cfg}\n$`));
    expect(R.facts(c.spec as HaproxyServersSpec)).toContainEqual({ kind: 'content', path: `${STATE}.provision-live` });
    expect(c.runtime).toEqual(['set server bk_static/a addr 127.0.0.1 port 18090', 'set server bk_static/a weight 1', 'set server bk_static/b state ready']);
  });

  it('liveMask: only for the reload files (haproxy.cfg), masking the declared static servers', () => {
    const s = spec({ reload_files: ['/etc/haproxy/haproxy.cfg'] });
    expect(R.liveMask!(s, '/etc/haproxy/haproxy.cfg', 'backend bk_static\n\tserver a 127.0.0.1:1 check weight 2\n')).toBe('backend bk_static\n\tserver a <live> check\n');
    expect(R.liveMask!(s, '/etc/haproxy/conf.d/x.cfg', 'backend bk_static\n')).toBeNull();
  });

  it('an error answer from HAProxy fails the step with it', () => {
    const c = R.diff(spec(), facts({ haproxy: new Map([[SOCK, runtime()]]), content: new Map([[STATE, null]]) }), dctx)!;
    const r = run(R.apply(c, sctx), { FAKE_ANSWER: 'No such server.' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('set server bk_static/a addr 127.0.0.1 port 18090: No such server.');
  });

  it('a reload is needed: changed and notifies', () => {
    const rt = runtime();
    rt.backends = rt.backends.filter((b) => b !== 'bk_payments');
    const c = R.diff(spec(), facts({ haproxy: new Map([[SOCK, rt]]), content: new Map([[STATE, null]]) }), dctx)!;
    expect(c.reason).toContain('backend bk_payments is not loaded (reload pending)');
    const r = run(R.apply(c, sctx));
    expect([r.status, r.changed, r.notify]).toEqual([0, true, true]);
  });

  it('only a reload pending (no command, nothing stale): a valid fragment that notifies', () => {
    const d = { commands: [], reload: ['reload pending'], resave: false, stale: [], restart: false };
    const r = run(R.apply({ step: 1, kind: 'haproxy_servers', id: 'x', action: 'update', reason: '', attrs: [], spec: spec(), data: d }, sctx));
    expect([r.status, r.changed, r.notify], r.stderr).toEqual([0, true, true]);
  });

  it('HAProxy not answering: the stale lines are removed from the state file, the rest kept', () => {
    const stateText = recorded('haproxy-server-state-file.txt');
    writeFileSync(STATE, stateText);
    const c = R.diff(spec(), facts({ haproxy: new Map([[SOCK, null]]), content: new Map([[STATE, Buffer.from(stateText)]]) }), dctx)!;
    const r = run(R.apply(c, sctx).text.replaceAll(SOCK, `${SOCK}.gone`));
    expect(r.status, r.stderr).toBe(0);
    const left = readFileSync(STATE, 'utf8');
    expect(left.split('\n').slice(0, 2)).toEqual(stateText.split('\n').slice(0, 2));
    expect(parseServerState(left).map((s) => s.server)).toEqual(parseServerState(stateText).map((s) => s.server).filter((n) => n !== 'a' && n !== 'b'));
    expect([r.changed, r.notify]).toEqual([true, false]);
    expect(existsSync(`${STATE}.provision-tmp`)).toBe(false);
  });
});
