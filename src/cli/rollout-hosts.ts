/**
 * From the inventory's rollout settings to engine RolloutHosts: every gate's strings
 * rendered with the host's vars (all hosts rendered, all errors collected, before
 * anything connects), and `--serial` / `--max-fail` parsed.
 */
import { InvalidArgumentError } from 'commander';
import { ConfigError, ConfigErrors } from '../config/errors.js';
import type { HostConfig, Inventory } from '../config/inventory.js';
import { maxFailSchema, serialSchema, type MaxFail, type SerialEntry } from '../config/rollout-schema.js';
import type { GateConfig } from '../config/rollout.js';
import type { Playbook } from '../config/playbooks.js';
import { mergeVars } from '../config/vars.js';
import { TemplateEngine } from '../config/templates.js';
import { GATE_DEFAULTS, gateLabel, type Gate, type GateCheck } from '../engine/health.js';
import type { RolloutHost } from '../engine/rollout.js';
import type { HostJob } from '../engine/types.js';

/** `--serial 1` / `--serial 1,25%,100%`. */
export function parseSerialOption(value: string): SerialEntry[] {
  const entries = value.split(',').map((v) => (/^\d+$/.test(v.trim()) ? Number(v.trim()) : v.trim()));
  const parsed = serialSchema.safeParse(entries);
  if (!parsed.success) throw new InvalidArgumentError('a host count, a share such as 25%, or a comma-separated list of them (1,25%,100%)');
  return parsed.data as SerialEntry[];
}

/** `--max-fail 0` / `--max-fail 10%`. */
export function parseMaxFailOption(value: string): MaxFail {
  const parsed = maxFailSchema.safeParse(/^\d+$/.test(value) ? Number(value) : value);
  if (!parsed.success) throw new InvalidArgumentError('a number of hosts or a share such as 10%');
  return parsed.data as MaxFail;
}

export function renderGate(g: GateConfig, host: HostConfig, templates: TemplateEngine, vars: object = host.vars): Gate {
  const r = (text: string) => templates.renderString(text, vars, g.pos);
  const d = g.def;
  let check: GateCheck;
  let from: Gate['from'] = 'controller';
  if (d.http) {
    check = { kind: 'http', url: r(d.http.url), status: d.http.status ?? GATE_DEFAULTS.status, timeoutS: d.http.timeout ?? GATE_DEFAULTS.timeoutS };
    if (d.http.body !== undefined) check.body = r(d.http.body);
    if (check.body !== undefined && (d.http.from ?? 'controller') === 'controller') {
      try {
        new RegExp(check.body);
      } catch (e) {
        throw new ConfigError(`health gate body is not a valid regular expression: ${(e as Error).message}`, g.pos);
      }
    }
    from = d.http.from ?? 'controller';
  } else if (d.tcp) {
    check = { kind: 'tcp', address: d.tcp.address !== undefined ? r(d.tcp.address) : host.address, port: d.tcp.port, timeoutS: d.tcp.timeout ?? GATE_DEFAULTS.timeoutS };
    from = d.tcp.from ?? 'controller';
  } else {
    check = { kind: 'command', command: r(d.command!) };
    from = 'host';
  }
  return {
    name: d.name !== undefined ? r(d.name) : gateLabel(check),
    from,
    check,
    retries: d.retries ?? GATE_DEFAULTS.retries,
    intervalS: d.interval ?? GATE_DEFAULTS.intervalS,
    deadlineS: d.deadline ?? GATE_DEFAULTS.deadlineS,
  };
}

/**
 * Rendered gates of every host: its groups' gates (with its inventory vars), then its
 * playbooks' (with the playbooks' default vars under them). Every template error of every
 * host is reported together.
 */
export function renderAllGates(inv: Inventory, hosts: HostConfig[], playbooks?: Map<string, Playbook>): Map<string, Gate[]> {
  const templates = new TemplateEngine(inv.settings.templatesDir);
  const errors: ConfigError[] = [];
  const out = new Map<string, Gate[]>();
  for (const h of hosts) {
    const gates: Gate[] = [];
    const pb = playbooks?.get(h.name);
    const pbVars = pb ? mergeVars(pb.vars, h.vars) : h.vars;
    const all = [...(h.rollout?.health ?? []).map((g) => ({ g, vars: h.vars })), ...(pb?.health ?? []).map((g) => ({ g, vars: pbVars }))];
    for (const { g, vars } of all) {
      try {
        gates.push(renderGate(g, h, templates, vars));
      } catch (e) {
        if (e instanceof ConfigError) errors.push(e);
        else throw e;
      }
    }
    out.set(h.name, gates);
  }
  if (errors.length) {
    const unique = [...new Map(errors.map((e) => [e.shortMessage, e])).values()];
    throw unique.length === 1 ? unique[0]! : new ConfigErrors(unique);
  }
  return out;
}

/** A rolling apply is used when asked (`--serial`) or when a selected host's groups set any rollout key. */
export function wantsRollout(hosts: HostConfig[], serialOption: unknown, playbooks?: Map<string, Playbook>): boolean {
  if (serialOption !== undefined) return true;
  if ([...(playbooks?.values() ?? [])].some((p) => p.health.length > 0)) return true;
  return hosts.some((h) => h.rollout && (h.rollout.group !== null || h.rollout.health.length > 0 || !h.rollout.restore));
}

export function rolloutHosts(inv: Inventory, hosts: HostConfig[], jobs: HostJob[], playbooks?: Map<string, Playbook>): RolloutHost[] {
  const gates = renderAllGates(inv, hosts, playbooks);
  const byName = new Map(hosts.map((h) => [h.name, h]));
  return jobs.map((job) => {
    const r = byName.get(job.name)!.rollout;
    return { job, gates: gates.get(job.name) ?? [], restore: r?.restore ?? true, group: r?.group ?? null, serial: r?.serial ?? [], maxFail: r?.maxFail };
  });
}
