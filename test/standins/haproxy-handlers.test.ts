/**
 * What makes HAProxy restart (issue 17): a restart refuses new connections and drops the
 * open ones, a reload loses nothing. So only what a reload cannot carry may notify
 * `restart haproxy`: the systemd drop-in (the master re-executes itself with its old
 * arguments on a reload) and EXTRAOPTS in /etc/default/haproxy (its arguments too). Every
 * configuration file notifies `reload haproxy`, and the restart is defined first so that a
 * run notifying both restarts once and skips the reload.
 */
import { describe, expect, it } from 'vitest';
import { loadPlaybook } from './render-vars.js';

interface Step {
  name?: string;
  notify?: string | string[];
  [kind: string]: unknown;
}

const notified = (s: Step) => (s.notify === undefined ? [] : Array.isArray(s.notify) ? s.notify : [s.notify]);

describe('HAProxy restarts only for what a reload cannot carry', () => {
  const playbook = loadPlaybook('haproxy') as unknown as { steps: Step[]; handlers: Record<string, unknown> };

  it('only the drop-in and EXTRAOPTS notify a restart', () => {
    const restarting = playbook.steps.filter((s) => notified(s).includes('restart haproxy'));
    expect(restarting.map((s) => (s.systemd_unit ? `systemd_unit ${(s.systemd_unit as { dropin: string }).dropin}` : s.line ? `line ${(s.line as { path: string }).path}` : s.name))).toEqual([
      'line /etc/default/haproxy',
      'systemd_unit 10-confd.conf',
    ]);
  });

  it('every HAProxy configuration file (main, conf.d, removal) notifies a reload, never a restart', () => {
    const configSteps = playbook.steps.filter((s) => {
      const f = (s.template ?? s.file) as { validate_set?: string } | undefined;
      return f?.validate_set === 'haproxy';
    });
    expect(configSteps.length).toBeGreaterThanOrEqual(3);
    for (const s of configSteps) expect(notified(s), s.name).toEqual(['reload haproxy']);
  });

  it('defines the restart before the reload (a run notifying both restarts once)', () => {
    expect(Object.keys(playbook.handlers)).toEqual(['restart haproxy', 'reload haproxy']);
  });
});
