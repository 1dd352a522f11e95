/**
 * Loads and validates an inventory file into immutable host configs: structure (strict
 * schema, unknown keys with hints), references (groups, children, jump hosts, playbooks),
 * secrets, and the merged vars and connection settings of every host. All problems found
 * in one pass are reported together as ConfigErrors, each with file:line:col.
 */
import path from 'node:path';
import { ConfigError, ConfigErrors, type SourcePos } from './errors.js';
import { buildGroupGraph, type GroupDecl, type GroupGraph } from './groups.js';
import { connectionShape, inventorySchema, type ConnectionKeys, type InventoryFile } from './inventory-schema.js';
import { selectHosts } from './limit.js';
import { displayPath, resolvePath } from './paths.js';
import { fileProblem } from './read-text.js';
import { findPlaybook, listPlaybookNames, playbookCandidates } from './playbook-paths.js';
import { resolveRollout, type HostRollout } from './rollout.js';
import { resolveSecrets, type SecretInfo } from './secrets.js';
import { didYouMean } from './suggest.js';
import { BUILTIN_VARS, mergeVarPositions, mergeVars } from './vars.js';
import type { VarPositions } from './lazy-vars.js';
import { YamlSource } from './yaml-source.js';
import { validKeysAt } from './zod-shape.js';
import { zodIssuesToConfigErrors } from './zod-issues.js';

export interface ConnectionConfig {
  user: string;
  port: number;
  identity: string[];
  sudo: boolean;
  jump: string | null;
  connectTimeout: number;
  /** Host-side lock path; null = the inventory's `settings.lock_file`. */
  lockFile: string | null;
  /** Per-host host key policy; unset = settings / ssh_config. */
  hostKeyPolicy?: HostKeyPolicy;
  /** Environment variable holding the sudo password; unset = `sudo -n`. */
  sudoPasswordEnv?: string;
  /** sudo with a pseudo-terminal (`requiretty`). */
  pty?: boolean;
}

export interface HostConfig {
  name: string;
  address: string;
  /** All groups of the host, including through children; parents first. */
  groups: string[];
  /** Merged inventory vars with built-ins and secrets (playbook defaults not applied). */
  vars: Record<string, unknown>;
  /** Where each inventory var's winning value is written (for errors inside templated vars). */
  varPos?: VarPositions;
  connection: ConnectionConfig;
  /**
   * Connection keys written in the inventory for this host (any layer), e.g. `user`:
   * these win over ssh_config; defaults do not.
   */
  connectionKeys?: string[];
  /** Absolute playbook paths: the groups' (in `groups` order), then the host's own. */
  playbooks: string[];
  /** Batches, health gates and restore (from the host's groups). */
  rollout?: HostRollout;
  pos: SourcePos;
}

export type HostKeyPolicy = 'strict' | 'accept-new';

export interface InventorySettings {
  playbooksDir: string;
  templatesDir: string;
  filesDir: string;
  knownHosts: string;
  hostKeyPolicy: HostKeyPolicy;
  forks: number;
  lockFile: string;
  downloadCache: string;
  /** ssh_config file named by the inventory (must exist); false = none; unset = ~/.ssh/config if present. */
  sshConfig?: string | false;
  jumpChannels?: number;
}

/** The `bootstrap:` section, paths resolved; null = not set (the command picks defaults). */
export interface BootstrapSettings {
  user: string | null;
  authorizedKeys: string[] | null;
  /** Sudoers rule; false = none; null = default. */
  sudo: string | false | null;
  packages: string[] | null;
  aptCacheMaxAge: number | null;
  hardenSsh: boolean;
  initialUser: string;
  initialIdentity: string | null;
  pos: SourcePos;
}

export interface Inventory {
  file: string;
  dir: string;
  settings: InventorySettings;
  /**
   * `settings:` keys written in the file (`known_hosts`, `host_key_policy`, ...): those
   * win over ssh_config (UserKnownHostsFile, StrictHostKeyChecking); defaults do not.
   */
  writtenSettings?: string[];
  bootstrap: BootstrapSettings;
  hosts: HostConfig[];
  /** Group -> host names (including through children), inventory host order. */
  groups: Map<string, string[]>;
  /** Every secret value, for redaction. */
  secretValues: string[];
  /** The inventory's secrets by name: value and declaration (for messages naming them). */
  secrets?: ReadonlyMap<string, SecretInfo>;
  /** Hosts matching a --limit expression; ConfigError when a pattern matches nothing. */
  select(limit?: string): HostConfig[];
}

export const CONNECTION_DEFAULTS: ConnectionConfig = {
  user: 'root',
  port: 22,
  identity: [],
  sudo: false,
  jump: null,
  connectTimeout: 10,
  lockFile: null,
};

function fail(errors: ConfigError[]): never {
  throw new ConfigErrors(errors);
}

/** Loads, checks and merges an inventory file; every problem of one phase is reported together. */
export async function loadInventory(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Inventory> {
  const abs = path.resolve(file);
  const dir = path.dirname(abs);
  const load: InventoryLoad = { ...(await parseInventoryFile(abs)), dir, env };
  const { inv, src } = load;
  const settings = resolveSettings(load);
  const decls = new Map<string, GroupDecl>(Object.entries(inv.groups ?? {}).map(([g, d]) => [g, { hosts: d.hosts ?? [], children: d.children ?? [] }]));
  const { graph, errors } = buildGroupGraph(decls, Object.keys(inv.hosts), src.posOf);
  errors.push(...varNameErrors(load), ...unknownJumpErrors(load));
  const secrets = await resolveSecrets(inv.secrets ?? {}, dir, env, src.posOf);
  errors.push(...secrets.errors);
  const playbooks = await resolvePlaybookRefs(load, settings.playbooksDir);
  errors.push(...playbooks.errors);
  if (errors.length > 0) fail(errors);

  const merged = mergeHosts(load, graph, playbooks.files, Object.fromEntries(secrets.values));
  const loops = jumpLoopErrors(load, graph, merged);
  if (loops.length > 0) fail(loops);
  const hosts = hostConfigs(load, graph, merged);
  const groups = new Map(graph.members);
  const byName = new Map(hosts.map((h) => [h.name, h]));
  return {
    file: abs,
    dir,
    settings,
    writtenSettings: Object.keys(inv.settings ?? {}),
    bootstrap: bootstrapSettings(load),
    hosts,
    groups,
    secrets: secrets.info,
    secretValues: [
      ...new Set([
        ...secrets.values.values(),
        ...hosts.map((h) => (h.connection.sudoPasswordEnv ? (env[h.connection.sudoPasswordEnv] ?? '') : '')),
      ]),
    ].filter((v) => v !== ''),
    select(limit?: string): HostConfig[] {
      return selectHosts(limit, Object.keys(inv.hosts), groups).map((n) => byName.get(n)!);
    },
  };
}

/** The file read and held to the schema (unknown keys are errors); nothing else checked yet. */
async function parseInventoryFile(abs: string): Promise<{ src: YamlSource; inv: InventoryFile }> {
  const src = await YamlSource.load(abs, undefined, 'inventory').catch((e: unknown) => {
    throw e instanceof ConfigError ? new ConfigErrors([e]) : e;
  });
  if (src.data === null || src.data === undefined) fail([new ConfigError('the inventory is empty (expected at least `hosts:`)', src.start)]);
  const parsed = inventorySchema.safeParse(src.data, { reportInput: true });
  if (!parsed.success) {
    fail(zodIssuesToConfigErrors(parsed.error.issues, src.posOf, (p) => validKeysAt(inventorySchema, p), (p) => src.rawAt(p)));
  }
  return { src, inv: parsed.data };
}

/** `settings:` with defaults, paths resolved against the inventory's folder. */
function resolveSettings({ inv, dir, env }: InventoryLoad): InventorySettings {
  const s = inv.settings ?? {};
  const settings: InventorySettings = {
    playbooksDir: resolvePath(dir, s.playbooks_dir ?? '../playbooks', env),
    templatesDir: resolvePath(dir, s.templates_dir ?? '../templates', env),
    filesDir: resolvePath(dir, s.files_dir ?? '../files', env),
    knownHosts: resolvePath(dir, s.known_hosts ?? '~/.ssh/known_hosts', env),
    hostKeyPolicy: s.host_key_policy ?? 'strict',
    forks: s.forks ?? 20,
    lockFile: s.lock_file ?? '/run/lock/provision.lock',
    downloadCache: resolvePath(dir, s.download_cache ?? '~/.cache/provision', env),
  };
  if (s.ssh_config !== undefined) settings.sshConfig = s.ssh_config === false ? false : resolvePath(dir, s.ssh_config, env);
  if (s.jump_channels !== undefined) settings.jumpChannels = s.jump_channels;
  return settings;
}

/** Var names: built-ins are reserved; a secret may not shadow a var. */
function varNameErrors({ inv, src }: InventoryLoad): ConfigError[] {
  const errors: ConfigError[] = [];
  const varLayers: { path: string[]; vars: Record<string, unknown> | undefined }[] = [
    { path: ['vars'], vars: inv.vars },
    ...Object.entries(inv.groups ?? {}).map(([g, d]) => ({ path: ['groups', g, 'vars'], vars: d.vars })),
    ...Object.entries(inv.hosts).map(([h, d]) => ({ path: ['hosts', h, 'vars'], vars: d.vars })),
  ];
  const secretNames = Object.keys(inv.secrets ?? {});
  for (const name of BUILTIN_VARS) {
    if (secretNames.includes(name)) errors.push(new ConfigError(`\`${name}\` is a built-in var and cannot be a secret`, src.posOf(['secrets', name], 'key')));
  }
  for (const layer of varLayers) {
    for (const name of Object.keys(layer.vars ?? {})) {
      if ((BUILTIN_VARS as readonly string[]).includes(name)) {
        errors.push(new ConfigError(`\`${name}\` is a built-in var and cannot be defined`, src.posOf([...layer.path, name], 'key'), 'rename it'));
      }
      if (secretNames.includes(name)) {
        const at = src.posOf(['secrets', name], 'key');
        errors.push(new ConfigError(`var \`${name}\` has the same name as a secret (defined at ${at.file}:${at.line}:${at.col})`, src.posOf([...layer.path, name], 'key'), 'rename one of them'));
      }
    }
  }
  return errors;
}

/**
 * Jump hosts must be inventory hosts (loops are refused once the hosts are merged). The
 * one place these are checked: the SSH targets (compile/jobs.ts) rely on it.
 */
function unknownJumpErrors({ inv, src }: InventoryLoad): ConfigError[] {
  const hostNames = Object.keys(inv.hosts);
  const jumpSources: { path: string[]; jump: string | null | undefined }[] = [
    { path: ['defaults'], jump: inv.defaults?.jump },
    ...Object.entries(inv.groups ?? {}).map(([g, d]) => ({ path: ['groups', g], jump: d.jump })),
    ...Object.entries(inv.hosts).map(([h, d]) => ({ path: ['hosts', h], jump: d.jump })),
  ];
  const errors: ConfigError[] = [];
  for (const { path: p, jump } of jumpSources) {
    if (typeof jump === 'string' && !hostNames.includes(jump)) {
      errors.push(new ConfigError(`jump host \`${jump}\` is not an inventory host`, src.posOf([...p, 'jump']), didYouMean(jump, hostNames) ?? `defined hosts: ${hostNames.join(', ')}`));
    }
  }
  return errors;
}

/** Playbook references must name existing, readable files: ref -> absolute path. */
async function resolvePlaybookRefs({ inv, src, dir }: InventoryLoad, playbooksDir: string): Promise<{ files: Map<string, string>; errors: ConfigError[] }> {
  const files = new Map<string, string>();
  const errors: ConfigError[] = [];
  const refs: { path: (string | number)[]; ref: string }[] = [
    ...Object.entries(inv.groups ?? {}).flatMap(([g, d]) => (d.playbooks ?? []).map((ref, i) => ({ path: ['groups', g, 'playbooks', i], ref }))),
    ...Object.entries(inv.hosts).flatMap(([h, d]) => (d.playbooks ?? []).map((ref, i) => ({ path: ['hosts', h, 'playbooks', i], ref }))),
  ];
  const available = await listPlaybookNames(playbooksDir);
  for (const { path: p, ref } of refs) {
    const found = await findPlaybook(ref, playbooksDir, dir);
    const problem = found && (await fileProblem(found));
    if (found && problem) errors.push(new ConfigError(`playbook \`${ref}\` (${displayPath(found)}) ${problem}`, src.posOf(p)));
    else if (found) files.set(ref, found);
    else {
      const tried = displayPath(playbookCandidates(ref, playbooksDir, dir)[0]!);
      errors.push(new ConfigError(`playbook \`${ref}\` not found (looked for ${tried})`, src.posOf(p), didYouMean(ref, available)));
    }
  }
  return { files, errors };
}

/** What the phases of loading an inventory share. */
interface InventoryLoad {
  inv: InventoryFile;
  src: YamlSource;
  dir: string;
  env: NodeJS.ProcessEnv;
}

interface MergedHost {
  vars: Record<string, unknown>;
  varPos: VarPositions;
  connection: ConnectionConfig;
  connectionKeys: string[];
  playbooks: string[];
  groups: string[];
}

/** Every host's layers (inventory, its groups in order, its own, secrets) merged. */
function mergeHosts(load: InventoryLoad, graph: GroupGraph, playbookFiles: Map<string, string>, secretVars: Record<string, unknown>): Map<string, MergedHost> {
  const { inv, src, dir, env } = load;
  const groupCfg = new Map(Object.entries(inv.groups ?? {}));
  const merged = new Map<string, MergedHost>();
  for (const [name, h] of Object.entries(inv.hosts)) {
    const groups = graph.groupsOf.get(name) ?? [];
    const vars = mergeVars(inv.vars, ...groups.map((g) => groupCfg.get(g)!.vars), h.vars, secretVars);
    const varLayersOf = [{ path: ['vars'], vars: inv.vars }, ...groups.map((g) => ({ path: ['groups', g, 'vars'], vars: groupCfg.get(g)!.vars })), { path: ['hosts', name, 'vars'], vars: h.vars }, { path: ['secrets'], vars: secretVars }];
    const varPos = mergeVarPositions(varLayersOf, (p) => src.posOf(p));
    const connection = mergeConnection([inv.defaults, ...groups.map((g) => groupCfg.get(g)!), h], dir, env);
    const playbooks: string[] = [];
    for (const ref of [...groups.flatMap((g) => groupCfg.get(g)!.playbooks ?? []), ...(h.playbooks ?? [])]) {
      const f = playbookFiles.get(ref)!;
      if (!playbooks.includes(f)) playbooks.push(f);
    }
    const connectionKeys = writtenConnectionKeys([inv.defaults, ...groups.map((g) => groupCfg.get(g)!), h]);
    merged.set(name, { vars, varPos, connection, connectionKeys, playbooks, groups });
  }
  return merged;
}

/** Jump-host loops, each reported once, at the `jump` entry that makes it. */
function jumpLoopErrors(load: InventoryLoad, graph: GroupGraph, merged: Map<string, MergedHost>): ConfigError[] {
  const errors: ConfigError[] = [];
  const onReportedLoop = new Set<string>();
  for (const [name, m] of merged) {
    const chain = [name];
    let next = m.connection.jump;
    while (next !== null) {
      if (chain.includes(next)) {
        // Reported once, for the hosts on the loop itself (not for every host leading to it).
        if (next !== name || onReportedLoop.has(name)) break;
        chain.forEach((h) => onReportedLoop.add(h));
        const by = jumpSetBy(load.inv, graph, name);
        const hint = by[0] === 'hosts' ? 'remove `jump` from one of these hosts' : `\`${by[0] === 'defaults' ? 'defaults' : by[1]}\` gives ${name} its jump: set \`jump: null\` on ${name} so it connects directly`;
        errors.push(new ConfigError(`jump host loop: ${[...chain, next].join(' -> ')}`, load.src.posOf(by), hint));
        break;
      }
      chain.push(next);
      next = merged.get(next)?.connection.jump ?? null;
    }
  }
  return errors;
}

/** The `jump` entry a host's jump comes from: its own, its last group's that sets one, or `defaults`. */
function jumpSetBy(inv: InventoryFile, graph: GroupGraph, host: string): string[] {
  if (inv.hosts[host]?.jump !== undefined) return ['hosts', host, 'jump'];
  const g = [...(graph.groupsOf.get(host) ?? [])].reverse().find((x) => inv.groups?.[x]?.jump !== undefined);
  return g !== undefined ? ['groups', g, 'jump'] : ['defaults', 'jump'];
}

/** The immutable host configs, with the `host` and `inventory` vars. */
function hostConfigs(load: InventoryLoad, graph: GroupGraph, merged: Map<string, MergedHost>): HostConfig[] {
  const { inv, src } = load;
  const groupsObj = Object.fromEntries([...graph.members].map(([g, hs]) => [g, [...hs]]));
  const hostsObj = Object.fromEntries(
    [...merged].map(([name, m]) => [name, { address: inv.hosts[name]!.address, groups: [...m.groups], vars: m.vars }]),
  );
  const inventoryVar = { hosts: hostsObj, groups: groupsObj };
  return [...merged].map(([name, m]) => ({
    name,
    address: inv.hosts[name]!.address,
    groups: m.groups,
    vars: { ...m.vars, host: { name, address: inv.hosts[name]!.address, groups: [...m.groups] }, inventory: inventoryVar },
    varPos: m.varPos,
    connection: m.connection,
    connectionKeys: m.connectionKeys,
    playbooks: m.playbooks,
    rollout: resolveRollout(m.groups, (g) => inv.groups![g]!, src.posOf),
    pos: src.posOf(['hosts', name], 'key'),
  }));
}

/** The `bootstrap:` section, paths resolved; null where unset (the command picks defaults). */
function bootstrapSettings({ inv, src, dir, env }: InventoryLoad): BootstrapSettings {
  const b = inv.bootstrap ?? {};
  return {
    user: b.user ?? null,
    authorizedKeys: b.authorized_keys === undefined ? null : (Array.isArray(b.authorized_keys) ? b.authorized_keys : [b.authorized_keys]).map((k) => resolvePath(dir, k, env)),
    sudo: b.sudo ?? null,
    packages: b.packages ?? null,
    aptCacheMaxAge: b.apt_cache_max_age ?? null,
    hardenSsh: b.harden_ssh ?? true,
    initialUser: b.initial_user ?? 'root',
    initialIdentity: b.initial_identity === undefined ? null : resolvePath(dir, b.initial_identity, env),
    pos: inv.bootstrap ? src.posOf(['bootstrap'], 'key') : src.start,
  };
}

function mergeConnection(layers: (ConnectionKeys | undefined)[], dir: string, env: NodeJS.ProcessEnv): ConnectionConfig {
  const c: ConnectionConfig = { ...CONNECTION_DEFAULTS };
  for (const l of layers) {
    if (!l) continue;
    if (l.user !== undefined) c.user = l.user;
    if (l.port !== undefined) c.port = l.port;
    if (l.identity !== undefined) c.identity = (Array.isArray(l.identity) ? l.identity : [l.identity]).map((i) => resolvePath(dir, i, env));
    if (l.sudo !== undefined) c.sudo = l.sudo;
    if (l.jump !== undefined) c.jump = l.jump;
    if (l.connect_timeout !== undefined) c.connectTimeout = l.connect_timeout;
    if (l.lock_file !== undefined) c.lockFile = l.lock_file;
    if (l.host_key_policy !== undefined) c.hostKeyPolicy = l.host_key_policy;
    if (l.sudo_password_env !== undefined) c.sudoPasswordEnv = l.sudo_password_env;
    if (l.pty !== undefined) c.pty = l.pty;
  }
  return c;
}

/** Connection keys written in any layer (schema names: `user`, `connect_timeout`, ...). */
function writtenConnectionKeys(layers: (ConnectionKeys | undefined)[]): string[] {
  const keys = new Set<string>();
  for (const l of layers) for (const [k, v] of Object.entries(l ?? {})) if (v !== undefined && k in connectionShape) keys.add(k);
  return [...keys];
}

