/**
 * `service`: a systemd unit enabled/disabled and started/stopped. `restarted`/`reloaded`
 * are for handlers (`handler()`), which act unconditionally when notified; a step with
 * them is refused (`check`), since a step cannot know when a restart is due. The apply fragment runs
 * a pending daemon-reload first (a `systemd_unit` step earlier in the run changed a file),
 * then re-checks `is-enabled`/`is-active` on the host before acting. A unit that fails
 * to start fails the step with `systemctl status` on stderr, so the user sees why.
 */
import { z } from 'zod';
import { notFoundUnit } from './facts/unit.js';
import { joinSh, sh, shVar, type Sh } from './sh.js';
import type { AttrDiff, ResourceType } from './types.js';
import type { UnitState } from './facts/types.js';

const UNIT_SUFFIX = /\.(service|socket|timer|path|mount|automount|swap|target|slice|scope|device)$/;

const schema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9@._:-]+$/, 'not a valid unit name: use letters, digits and `@._:-`, e.g. `haproxy` or `consul.service`'),
    enabled: z.boolean().optional(),
    state: z.enum(['started', 'stopped', 'restarted', 'reloaded']).optional(),
  });
export type ServiceSpec = z.infer<typeof schema>;

/** `haproxy` -> `haproxy.service`; names with a unit suffix are kept. */
export function unitName(name: string): string {
  return UNIT_SUFFIX.test(name) ? name : `${name}.service`;
}

/** UnitFileStates that need no `systemctl enable` (static/indirect units cannot be enabled). */
const ENABLED_LIKE = new Set(['enabled', 'enabled-runtime', 'static', 'alias', 'indirect', 'generated', 'transient']);
/** UnitFileStates that `systemctl disable` changes. */
const DISABLE_TARGETS = new Set(['enabled', 'enabled-runtime']);
/** ActiveStates that count as running. */
const RUNNING = new Set(['active', 'activating', 'reloading']);

export function isEnabledState(u: UnitState): boolean {
  return u.loadState !== 'not-found' && ENABLED_LIKE.has(u.unitFileState);
}

export function isRunningState(u: UnitState): boolean {
  return RUNNING.has(u.activeState);
}

/** stderr detail of a unit that failed: its status and last journal lines. */
function failureDetail(unit: string, journal: boolean): Sh {
  const status = sh`systemctl status --no-pager -l -n ${journal ? 0 : 20} -- ${unit} >&2`;
  return journal ? sh`${status}; journalctl -u ${unit} -n 20 --no-pager >&2` : status;
}

export const serviceResource: ResourceType<ServiceSpec> = {
  kind: 'service',
  schema,
  id: (s) => `service ${unitName(s.name)}`,
  check(s) {
    if (s.state === 'restarted' || s.state === 'reloaded') {
      const verb = s.state === 'restarted' ? 'restart' : 'reload';
      return `\`state: ${s.state}\` belongs in a handler: a step cannot tell when to ${verb} (use \`state: started\` here, and \`notify\` a handler with \`state: ${s.state}\` from the steps that change its configuration)`;
    }
    return s.enabled === undefined && s.state === undefined ? 'give `enabled` and/or `state`: this step would do nothing' : null;
  },
  facts: (s) => [{ kind: 'unit', name: unitName(s.name) }],
  diff(s, facts, ctx) {
    const name = unitName(s.name);
    // Not found yet is normal on a first run: a systemd_unit step earlier creates the unit.
    const u = facts.unit.get(name) ?? notFoundUnit(name);
    const found = u.loadState !== 'not-found';
    const attrs: AttrDiff[] = [];
    const reasons: string[] = [];
    if (s.enabled === true && !isEnabledState(u)) {
      attrs.push({ field: 'enabled', before: found ? u.unitFileState || 'disabled' : null, after: 'enabled' });
      reasons.push(found ? `not enabled (${u.unitFileState || 'disabled'})` : 'unit not found (yet)');
    }
    if (s.enabled === false && DISABLE_TARGETS.has(u.unitFileState)) {
      attrs.push({ field: 'enabled', before: u.unitFileState, after: 'disabled' });
      reasons.push('enabled');
    }
    const wantRunning = s.state !== undefined && s.state !== 'stopped';
    if (wantRunning && !isRunningState(u)) {
      attrs.push({ field: 'state', before: found ? `${u.activeState} (${u.subState})` : null, after: 'active' });
      if (found || s.enabled !== true) reasons.push(found ? `not running (${u.activeState})` : 'unit not found (yet)');
    }
    if (s.state === 'stopped' && isRunningState(u)) {
      attrs.push({ field: 'state', before: `${u.activeState} (${u.subState})`, after: 'inactive' });
      reasons.push('running');
    }
    if (attrs.length === 0) return null;
    return { step: ctx.step, kind: 'service', id: `service ${name}`, action: 'update', reason: reasons.join(', '), attrs, spec: s };
  },
  apply(change) {
    const s = change.spec;
    const u = unitName(s.name);
    const lines = [sh`_daemon_reload || return 1`];
    if (s.enabled === true) {
      lines.push(sh`if ! systemctl is-enabled --quiet -- ${u} 2>/dev/null; then systemctl enable --quiet -- ${u} || return 1; _changed; fi`);
    }
    if (s.enabled === false) {
      lines.push(
        sh`case "$(systemctl is-enabled -- ${u} 2>/dev/null)" in enabled|enabled-runtime) systemctl disable --quiet -- ${u} || return 1; _changed ;; esac`,
      );
    }
    if (s.state !== undefined && s.state !== 'stopped') {
      lines.push(
        sh`if ! systemctl is-active --quiet -- ${u}; then`,
        sh`  if ! _unit start ${u}; then _err ${`${unitName(s.name)} failed to start:`}; ${failureDetail(u, false)}; return 1; fi`,
        sh`  _changed`,
        sh`fi`,
      );
    }
    if (s.state === 'stopped') {
      lines.push(sh`if systemctl is-active --quiet -- ${u}; then systemctl stop -- ${u} || return 1; _changed; fi`);
    }
    return joinSh(lines);
  },
  handler(s) {
    const name = unitName(s.name);
    const u = name;
    // restarted (and a handler without state) restarts; reloaded reloads a running unit
    // (or restarts one that cannot reload) and leaves a stopped one stopped.
    const verb = s.state === 'reloaded' ? 'try-reload-or-restart' : s.state === 'started' ? 'start' : s.state === 'stopped' ? 'stop' : 'restart';
    // Handlers run in definition order; a unit restarted by an earlier handler of this run
    // already runs the new configuration, so its reload is skipped (define restart first).
    const flag = shVar(`_RS_${name.replace(/\W/g, '_')}`);
    const skip = s.state === 'reloaded' ? [sh`if [ "$${flag}" = 1 ]; then return 0; fi`] : [];
    const mark = verb === 'restart' ? [sh`${flag}=1`] : [];
    return joinSh([
      ...skip,
      sh`_daemon_reload || return 1`,
      sh`if ! _unit ${verb} ${u}; then _err ${`systemctl ${verb} ${name} failed:`}; ${failureDetail(u, true)}; return 1; fi`,
      ...mark,
      sh`_changed`,
    ]);
  },
};
