import { describe, expect, it } from 'vitest';
import { notFoundUnit, unitCollector } from '../../../../src/resources/facts/unit.js';
import { recorded, sh } from '../run-sh.js';

const KEYS = ['haproxy.service', 'consul.service', 'dnsmasq.service', 'sshd.service', 'systemd-journald.service'];

describe('unitCollector', () => {
  it('emits one systemctl show for every unit', () => {
    expect(unitCollector.script(['a.service', 'b c.service']).text).toBe(
      "systemctl show --no-pager --timestamp=unix -p Id,LoadState,ActiveState,SubState,UnitFileState,FragmentPath,DropInPaths,ExecMainStartTimestamp,StateChangeTimestamp,ReloadResult -- a.service 'b c.service'",
    );
    expect(unitCollector.script([]).text).toBe(':');
  });

  it('parses systemd 252 output in argument order (see recorded/systemctl-show.README)', () => {
    const m = unitCollector.parse(recorded('systemctl-show.txt'), KEYS);
    expect(m.get('haproxy.service')).toEqual({
      id: 'haproxy.service',
      loadState: 'loaded',
      activeState: 'active',
      subState: 'running',
      unitFileState: 'enabled',
      fragmentPath: '/lib/systemd/system/haproxy.service',
      dropInPaths: ['/etc/systemd/system/haproxy.service.d/10-confd.conf', '/etc/systemd/system/haproxy.service.d/20-state.conf'],
    });
    expect(m.get('consul.service')).toEqual(notFoundUnit('consul.service'));
    expect(m.get('dnsmasq.service')).toMatchObject({ activeState: 'failed', unitFileState: 'disabled' });
    // An alias: matched by position, Id is the target's.
    expect(m.get('sshd.service')).toMatchObject({ id: 'ssh.service', activeState: 'active' });
    expect(m.get('systemd-journald.service')?.unitFileState).toBe('static');
  });

  it('falls back to matching by Id when blocks are missing', () => {
    const out = recorded('systemctl-show.txt').split('\n\n').slice(0, 1).join('\n\n');
    const m = unitCollector.parse(out, ['consul.service', 'haproxy.service']);
    expect(m.get('haproxy.service')?.activeState).toBe('active');
    expect(m.get('consul.service')?.loadState).toBe('not-found');
  });

  it('reports not-found for every unit when systemd is not running (this host)', () => {
    const r = sh(`{ ${unitCollector.script(['ssh.service'])}\n} 2>/dev/null`);
    const m = unitCollector.parse(r.stdout, ['ssh.service']);
    if (r.stdout.trim() === '') expect(m.get('ssh.service')).toEqual(notFoundUnit('ssh.service'));
    else expect(m.get('ssh.service')?.id).toBe('ssh.service');
  });
});
