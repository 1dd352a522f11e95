import { describe, expect, it } from 'vitest';
import { haproxyCollector } from '../../../../src/resources/facts/haproxy.js';
import { adminLabel, parseBackendList, parseServerState } from '../../../../src/resources/haproxy/server-state.js';
import { recorded } from '../run-sh.js';

describe('parseServerState (recorded HAProxy 2.6.12, see recorded/haproxy.README)', () => {
  it('reads every server of `show servers state`, skipping the version and header lines', () => {
    const s = parseServerState(recorded('haproxy-show-servers-state.txt'));
    expect(s.map((x) => `${x.backend}/${x.server}`)).toEqual([
      'bk_static/a', 'bk_static/b', 'bk_static/c', 'bk_payments/payments-1_8080',
      'bk_tomcat/tomcat1', 'bk_tomcat/tomcat2', 'bk_tomcat/tomcat3', 'bk_tomcat/tomcat4',
    ]);
    expect(s[0]).toEqual({ backend: 'bk_static', server: 'a', addr: '127.0.0.1', opState: 0, admin: 0, uweight: 5, iweight: 1, fqdn: '-', port: 18080, srvrecord: '-' });
    expect(s.map((x) => adminLabel(x.admin))).toEqual(['ready', 'maint', 'drain', 'ready', 'ready', 'maint', 'maint', 'maint']);
    expect(s[4]).toMatchObject({ fqdn: 'tomcat-1.node.dc1.consul', port: 8080, srvrecord: '_tomcat._tcp.service.consul', admin: 64 });
    expect(s[5]).toMatchObject({ addr: '-', port: 0, admin: 32 });
  });

  it('reads the saved state file the same way (same format)', () => {
    const s = parseServerState(recorded('haproxy-server-state-file.txt'));
    expect(s.find((x) => x.server === 'a')).toMatchObject({ port: 18080, uweight: 5 });
  });

  it('ignores a truncated line and garbage', () => {
    expect(parseServerState('1\n# header\n5 bk 1 a 127.0.0.1 2 0\nnot a line\n')).toEqual([]);
    expect(parseServerState('')).toEqual([]);
  });

  it('parses `show backend`', () => {
    expect(parseBackendList(recorded('haproxy-show-backend.txt'))).toEqual(['bk_static', 'stats', 'bk_payments', 'bk_tomcat']);
  });
});

describe('haproxyCollector', () => {
  it('asks each socket twice through socat, with the socket path quoted', () => {
    const script = haproxyCollector.script(['/run/haproxy/admin.sock', "/run/odd path's.sock"]).text;
    expect(script).toContain(`_hp() { printf '%s\\n' "$2" | socat -t5 stdio "UNIX-CONNECT:$1"; }`);
    expect(script).toContain(`_s=$(_hp /run/haproxy/admin.sock 'show servers state') && _b=$(_hp /run/haproxy/admin.sock 'show backend')`);
    expect(script).toContain(`_hp '/run/odd path'\\''s.sock' 'show servers state'`);
  });

  it('parses the recorded probe output: a running HAProxy, and null for a socket that does not answer', () => {
    const m = haproxyCollector.parse(recorded('haproxy-collector.txt'), ['/run/haproxy/admin.sock', '/run/haproxy/missing.sock']);
    const up = m.get('/run/haproxy/admin.sock');
    expect(up?.servers).toHaveLength(8);
    expect(up?.backends).toEqual(['bk_static', 'stats', 'bk_payments', 'bk_tomcat']);
    expect(m.get('/run/haproxy/missing.sock')).toBeNull();
  });

  it('null when the output is missing (probe cut)', () => {
    expect(haproxyCollector.parse('', ['/s']).get('/s')).toBeNull();
  });
});
