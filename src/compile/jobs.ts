/**
 * From a loaded inventory to engine jobs: playbooks loaded once per distinct list, every
 * selected host expanded (all config errors of all hosts collected before anything
 * connects), and the SSH target of each host (with its jump host) built.
 */
import os from 'node:os';
import path from 'node:path';
import { ConfigError, ConfigErrors, ConnectionError } from '../config/errors.js';
import { CONNECTION_DEFAULTS, type HostConfig, type Inventory } from '../config/inventory.js';
import { loadPlaybooks, type Playbook } from '../config/playbooks.js';
import { TemplateEngine } from '../config/templates.js';
import type { HostJob } from '../engine/types.js';
import { DownloadCache } from '../resources/download-cache.js';
import { expandHost } from './expand.js';
import { STEP_KINDS } from '../resources/registry.js';
import type { SshTarget } from '../transport/connection.js';
import { SshConfigFile } from '../transport/ssh-config.js';
import { connectSsh, type ConnectSshOptions } from '../transport/ssh.js';
import { resolveTarget, TARGET_DEFAULTS, type TargetSpec } from '../transport/target.js';

const sshConfigs = new WeakMap<Inventory, SshConfigFile>();

/** The inventory's ssh_config (loaded once per inventory): named file, ~/.ssh/config, or none. */
function sshConfigOf(inv: Inventory): SshConfigFile {
  let cfg = sshConfigs.get(inv);
  if (!cfg) {
    const named = inv.settings.sshConfig;
    cfg = named === false ? SshConfigFile.empty() : SshConfigFile.load(named ?? path.join(os.homedir(), '.ssh', 'config'), named !== undefined);
    sshConfigs.set(inv, cfg);
  }
  return cfg;
}

/** What the inventory itself says about a host's connection (written keys only). */
function targetSpec(inv: Inventory, host: HostConfig, env: NodeJS.ProcessEnv): TargetSpec {
  const c = host.connection;
  const written = new Set(host.connectionKeys ?? Object.keys(c));
  const spec: TargetSpec = { name: host.name, address: host.address };
  if (written.has('user')) spec.user = c.user;
  if (written.has('port')) spec.port = c.port;
  if (written.has('identity')) spec.identityFiles = c.identity;
  if (written.has('connect_timeout')) spec.connectTimeoutS = c.connectTimeout;
  const settingsWritten = new Set(inv.writtenSettings ?? ['known_hosts', 'host_key_policy']);
  if (settingsWritten.has('known_hosts')) spec.knownHostsFiles = [inv.settings.knownHosts];
  const policy = c.hostKeyPolicy ?? (settingsWritten.has('host_key_policy') ? inv.settings.hostKeyPolicy : undefined);
  if (policy !== undefined) spec.hostKeyPolicy = policy;
  if (c.pty !== undefined) spec.pty = c.pty;
  if (inv.settings.jumpChannels !== undefined) spec.maxJumpChannels = inv.settings.jumpChannels;
  if (c.sudoPasswordEnv !== undefined && c.sudo) {
    const pw = env[c.sudoPasswordEnv];
    if (pw === undefined || pw === '') {
      throw new ConfigError(`host \`${host.name}\`: sudo_password_env names ${c.sudoPasswordEnv}, which is not set in the environment`, host.pos);
    }
    spec.sudoPassword = pw;
  }
  if (c.jump) {
    // loadInventory refused a jump host that is not an inventory host, and jump loops.
    const j = inv.hosts.find((h) => h.name === c.jump)!;
    spec.jump = targetSpec(inv, j, env);
  } else if (written.has('jump')) {
    spec.jump = null;
  }
  return spec;
}

/**
 * The SSH target of an inventory host: the inventory's written settings over the
 * ssh_config ones (looked up with `address` as the Host alias) over the defaults.
 */
export function sshTarget(inv: Inventory, host: HostConfig, env: NodeJS.ProcessEnv = process.env): SshTarget {
  const spec = targetSpec(inv, host, env);
  try {
    return resolveTarget(spec, sshConfigOf(inv), {
      ...TARGET_DEFAULTS,
      user: CONNECTION_DEFAULTS.user,
      port: CONNECTION_DEFAULTS.port,
      connectTimeoutS: CONNECTION_DEFAULTS.connectTimeout,
      knownHostsFiles: [inv.settings.knownHosts],
      hostKeyPolicy: inv.settings.hostKeyPolicy,
    });
  } catch (e) {
    if (e instanceof ConnectionError) throw new ConfigError(`host \`${host.name}\`: ${e.message}`, host.pos);
    throw e;
  }
}

export interface BuiltJobs {
  jobs: HostJob[];
  hosts: HostConfig[];
  /** Each host's loaded playbooks (their `health:` gates are rendered per host). */
  playbooks?: Map<string, Playbook>;
}

export async function buildJobs(inv: Inventory, hosts: HostConfig[], ssh: ConnectSshOptions = {}): Promise<BuiltJobs> {
  const templates = new TemplateEngine(inv.settings.templatesDir);
  const downloads = new DownloadCache(inv.settings.downloadCache);
  const playbooks = new Map<string, Promise<Playbook>>();
  const errors: ConfigError[] = [];
  const jobs: HostJob[] = [];
  const byHost = new Map<string, Playbook>();
  for (const host of hosts) {
    const key = host.playbooks.join('\0');
    if (!playbooks.has(key)) playbooks.set(key, loadPlaybooks(host.playbooks, STEP_KINDS));
    try {
      const playbook = await playbooks.get(key)!;
      byHost.set(host.name, playbook);
      const expanded = await expandHost(host, playbook, {
        templates,
        filesDir: inv.settings.filesDir,
        downloads,
        secretValues: inv.secretValues,
        secrets: inv.secrets,
      });
      const target = sshTarget(inv, host);
      jobs.push({
        name: host.name,
        ...expanded,
        sudo: host.connection.sudo,
        lockFile: host.connection.lockFile ?? inv.settings.lockFile,
        connect: () => connectSsh(target, ssh),
      });
    } catch (e) {
      if (e instanceof ConfigErrors) errors.push(...e.errors);
      else if (e instanceof ConfigError) errors.push(e);
      else throw e;
    }
  }
  if (errors.length) {
    // The same playbook error shows up once per host: report it once.
    const unique = [...new Map(errors.map((e) => [e.shortMessage, e])).values()];
    throw unique.length === 1 ? unique[0]! : new ConfigErrors(unique);
  }
  return { jobs, hosts, playbooks: byHost };
}

export function lockHolder(): string {
  return `controller=${os.hostname()} user=${os.userInfo().username} pid=${process.pid} started=${new Date().toISOString()}`;
}
