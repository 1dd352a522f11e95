import { describe, expect, it } from 'vitest';
import { isInstalled, packageCollector } from '../../../../src/resources/facts/package.js';
import { recorded, sh } from '../run-sh.js';

describe('packageCollector', () => {
  it('emits one dpkg-query for every key, quoted', () => {
    expect(packageCollector.script(['haproxy', 'socat']).text).toBe(
      "dpkg-query -W -f='${Package}\\t${db:Status-Abbrev}\\t${Version}\\n' -- haproxy socat",
    );
    expect(packageCollector.script(["a b'c"]).text).toContain(`-- 'a b'\\''c'`);
  });

  it('emits no dpkg-query without keys (it would list every package)', () => {
    expect(packageCollector.script([]).text).toBe(':');
  });

  it('parses recorded output: installed, unknown and arch-qualified names', () => {
    // Recorded: dpkg-query ... -- bash acl nosuchpkg-xyz libc6 sudo coreutils libc6:amd64
    const keys = ['bash', 'acl', 'nosuchpkg-xyz', 'libc6', 'libc6:amd64'];
    const m = packageCollector.parse(recorded('dpkg-query.txt'), keys);
    expect([...m.keys()]).toEqual(keys);
    expect(m.get('bash')).toEqual({ status: 'ii ', version: '5.2.15-2+b8' });
    expect(m.get('nosuchpkg-xyz')).toBeNull();
    expect(m.get('libc6:amd64')).toEqual(m.get('libc6'));
    expect(isInstalled(m.get('acl'))).toBe(true);
  });

  it('parses held, unpacked and removed-with-config states (recorded with a crafted --admindir)', () => {
    const m = packageCollector.parse(recorded('dpkg-query-states.txt'), ['haproxy', 'socat', 'dnsmasq-base', 'consul']);
    expect(m.get('haproxy')).toEqual({ status: 'rc ', version: '2.6.12-1+deb12u2' });
    expect(isInstalled(m.get('haproxy'))).toBe(false);
    expect(isInstalled(m.get('socat'))).toBe(true); // hi: held, installed
    expect(isInstalled(m.get('dnsmasq-base'))).toBe(false); // iU: unpacked only
    expect(m.get('consul')).toBeNull();
    expect(isInstalled(null)).toBe(false);
  });

  it('prefers the installed architecture when a name appears twice', () => {
    const out = 'libfoo\tun \t\nlibfoo\tii \t1.0\n';
    expect(packageCollector.parse(out, ['libfoo']).get('libfoo')).toEqual({ status: 'ii ', version: '1.0' });
  });

  it('runs for real on this host and parses its own output', () => {
    const keys = ['dpkg', 'no-such-package-provision'];
    const r = sh(`{ ${packageCollector.script(keys)}\n} 2>/dev/null`);
    const m = packageCollector.parse(r.stdout, keys);
    expect(isInstalled(m.get('dpkg'))).toBe(true);
    expect(m.get('no-such-package-provision')).toBeNull();
  });
});
