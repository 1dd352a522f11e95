/**
 * Builds the variables a host would see (playbook defaults < inventory vars < group
 * vars < host vars < secrets, plus `host` and `inventory`) straight from the YAML
 * files, and a nunjucks environment configured like the engine's, so the templates can
 * be rendered and checked with the real tools without the engine.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nunjucks from 'nunjucks';
import { parse } from 'yaml';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

type Vars = Record<string, unknown>;

interface InventoryFile {
  vars?: Vars;
  secrets?: Record<string, unknown>;
  groups?: Record<string, { hosts?: string[]; vars?: Vars; playbooks?: string[] }>;
  hosts?: Record<string, { address: string; vars?: Vars }>;
}

export interface PlaybookFile {
  vars?: Vars;
  steps?: Array<Record<string, unknown>>;
  handlers?: Record<string, Record<string, unknown>>;
  validate_sets?: Record<string, { command: string; paths: Record<string, string> }>;
}

export function loadYaml<T>(path: string): T {
  return parse(readFileSync(join(REPO, path), 'utf8')) as T;
}

export function loadPlaybook(name: string): PlaybookFile {
  return loadYaml<PlaybookFile>(`playbooks/${name}.yaml`);
}

/** Defaults of a playbook and of every playbook it includes (includes first). */
export function playbookDefaults(name: string, seen = new Set<string>()): Vars {
  if (seen.has(name)) return {};
  seen.add(name);
  const pb = loadPlaybook(name);
  let vars: Vars = {};
  for (const step of pb.steps ?? []) {
    if (typeof step.include === 'string') vars = { ...vars, ...playbookDefaults(step.include, seen) };
  }
  return { ...vars, ...(pb.vars ?? {}) };
}

/** Vars of `hostName` in `inventoryPath`; secrets get the given stand-in values. */
export function hostVars(inventoryPath: string, hostName: string, secrets: Vars): Vars {
  const inv = loadYaml<InventoryFile>(inventoryPath);
  const host = inv.hosts?.[hostName];
  if (!host) throw new Error(`${hostName} not in ${inventoryPath}`);
  const groups = Object.entries(inv.groups ?? {}).filter(([, g]) => g.hosts?.includes(hostName));
  let vars: Vars = {};
  for (const [, g] of groups) for (const pb of g.playbooks ?? []) vars = { ...vars, ...playbookDefaults(pb) };
  vars = { ...vars, ...(inv.vars ?? {}) };
  for (const [, g] of groups) vars = { ...vars, ...(g.vars ?? {}) };
  vars = { ...vars, ...(host.vars ?? {}) };
  for (const name of Object.keys(inv.secrets ?? {})) {
    if (!(name in secrets)) throw new Error(`no stand-in value for secret ${name}`);
    vars[name] = secrets[name];
  }
  const inventory = {
    hosts: Object.fromEntries(
      Object.entries(inv.hosts ?? {}).map(([n, h]) => [
        n,
        { address: h.address, groups: groupsOf(inv, n), vars: h.vars ?? {} },
      ]),
    ),
    groups: Object.fromEntries(Object.entries(inv.groups ?? {}).map(([g, v]) => [g, v.hosts ?? []])),
  };
  return { ...vars, host: { name: hostName, address: host.address, groups: groupsOf(inv, hostName) }, inventory };
}

function groupsOf(inv: InventoryFile, hostName: string): string[] {
  return Object.entries(inv.groups ?? {})
    .filter(([, g]) => g.hosts?.includes(hostName))
    .map(([n]) => n);
}

/** The engine's settings: undefined variables are errors, no HTML escaping. */
export function templateEnv(): nunjucks.Environment {
  return nunjucks.configure(join(REPO, 'templates'), {
    throwOnUndefined: true,
    trimBlocks: true,
    lstripBlocks: true,
    autoescape: false,
  });
}

/** Evaluates a `when` expression the way a nunjucks `{% if %}` does. */
export function evalWhen(env: nunjucks.Environment, expr: string, vars: Vars): boolean {
  return env.renderString(`{% if ${expr} %}yes{% else %}no{% endif %}`, vars) === 'yes';
}
