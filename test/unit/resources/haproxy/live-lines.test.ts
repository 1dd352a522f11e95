import { describe, expect, it } from 'vitest';
import { declared } from '../../../../src/resources/haproxy/declared.js';
import { maskLiveLines } from '../../../../src/resources/haproxy/live-lines.js';

const decl = declared({
  static_backends: [
    {
      name: 'bk_static',
      servers: [
        { name: 'a', address: '127.0.0.1', port: 18090, weight: 3 },
        { name: 'b', address: '127.0.0.1', port: 18091, state: 'maint' },
        { name: 'h', address: 'app.example', port: 80 },
      ],
    },
  ],
  dynamic_backends: [],
  dynamic_prefix: 'bk_',
  default_slots: 1,
});

const cfg = (a: string, b: string, h = '\tserver h app.example:80 check', extra = '') =>
  `global\n\tmaxconn 100\n\nbackend bk_static\n\tbalance roundrobin\n${a}\n${b}\n${h}\n${extra}\nbackend other\n\tserver a 10.0.0.1:80 check\n`;
const same = (x: string, y: string) => maskLiveLines(decl, x) === maskLiveLines(decl, y);

describe('maskLiveLines: what the admin socket applies in haproxy.cfg', () => {
  const base = cfg('\tserver a 127.0.0.1:18080 check', '\tserver b 127.0.0.1:18091 check');
  it('a port, an address, a weight and `disabled` of a declared static server are live', () => {
    expect(same(base, cfg('\tserver a 127.0.0.1:18090 check weight 3', '\tserver b 127.0.0.2:18091 check disabled'))).toBe(true);
    expect(maskLiveLines(decl, '\nbackend bk_static\n\tserver a 127.0.0.1:18090 check weight 3 disabled\n')).toBe('\nbackend bk_static\n\tserver a <live> check\n');
  });
  it('anything else is not: another keyword, a server added, a host name, another backend, another section', () => {
    expect(same(base, cfg('\tserver a 127.0.0.1:18080 check inter 5s', '\tserver b 127.0.0.1:18091 check'))).toBe(false);
    expect(same(base, cfg('\tserver a 127.0.0.1:18080 check', '\tserver b 127.0.0.1:18091 check', undefined, '\tserver c 127.0.0.1:1 check'))).toBe(false);
    expect(same(base, cfg('\tserver a 127.0.0.1:18080 check', '\tserver b 127.0.0.1:18091 check', '\tserver h other.example:80 check'))).toBe(false);
    expect(same(base, base.replace('server a 10.0.0.1:80', 'server a 10.0.0.2:80'))).toBe(false);
    expect(same(base, base.replace('maxconn 100', 'maxconn 200'))).toBe(false);
    // a server renamed (a new name is a new server: a reload)
    expect(same(base, base.replace('server a ', 'server a2 '))).toBe(false);
    // an address given by host name before is not applied live (init-addr, resolvers)
    expect(same(cfg('\tserver a app.example:18080 check', '\tserver b 127.0.0.1:18091 check'), base)).toBe(false);
  });
});
