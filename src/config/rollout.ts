/**
 * The rollout settings of each host, from its groups (parents before children, so the
 * most specific group wins, as with vars): `serial` and `max_fail` come from the last
 * group that sets `serial` (that group is the host's rollout unit), `restore` from the
 * last group that sets it, and `health` gates from every group, in group order.
 */
import type { SourcePos } from './errors.js';
import type { GateDef, MaxFail, SerialEntry } from './rollout-schema.js';
import type { PosOf } from './yaml-source.js';

export interface GateConfig {
  def: GateDef;
  /** Where the gate is written (for template errors). */
  pos: SourcePos;
  /** The group (or playbook file) that declares it. */
  source: string;
}

export interface HostRollout {
  /** The group whose `serial` applies; null when no group of the host sets one. */
  group: string | null;
  serial: SerialEntry[];
  maxFail: MaxFail | undefined;
  restore: boolean;
  health: GateConfig[];
}

export interface RolloutGroupKeys {
  serial?: SerialEntry | SerialEntry[] | undefined;
  max_fail?: MaxFail | undefined;
  restore?: boolean | undefined;
  health?: GateDef[] | undefined;
}

export function resolveRollout(groups: string[], cfg: (group: string) => RolloutGroupKeys, posOf: PosOf): HostRollout {
  const r: HostRollout = { group: null, serial: [], maxFail: undefined, restore: true, health: [] };
  for (const g of groups) {
    const c = cfg(g);
    if (c.serial !== undefined) {
      r.group = g;
      r.serial = Array.isArray(c.serial) ? c.serial : [c.serial];
      r.maxFail = c.max_fail;
    }
    if (c.restore !== undefined) r.restore = c.restore;
    (c.health ?? []).forEach((def, i) => r.health.push({ def, pos: posOf(['groups', g, 'health', i]), source: `group ${g}` }));
  }
  return r;
}
