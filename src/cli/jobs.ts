/**
 * From a loaded inventory to engine jobs: playbooks loaded once per distinct list, every
 * selected host expanded (all config errors of all hosts collected before anything
 * connects), and the SSH target of each host (with its jump host) built.
 */
import os from 'node:os';
import { ConfigError, ConfigErrors } from '../config/errors.js';
import type { HostConfig, Inventory } from '../config/inventory.js';
import { loadPlaybooks, type Playbook } from '../config/playbooks.js';
import { TemplateEngine } from '../config/templates.js';
import type { HostJob } from '../engine/types.js';
import { DownloadCache } from '../resources/download-cache.js';
import { expandHost } from '../resources/expand.js';
import { STEP_KINDS } from '../resources/registry.js';
import type { SshTarget } from '../transport/connection.js';
import { connectSsh, type ConnectSshOptions } from '../transport/ssh.js';

export function sshTarget(inv: Inventory, host: HostConfig, seen: string[] = []): SshTarget {
  const c = host.connection;
  let jump: SshTarget | undefined;
  if (c.jump) {
    const j = inv.hosts.find((h) => h.name === c.jump);
    if (!j) throw new ConfigError(`host \`${host.name}\`: jump host \`${c.jump}\` is not in the inventory`, host.pos);
    if (seen.includes(j.name)) throw new ConfigError(`jump hosts form a cycle: ${[...seen, host.name, j.name].join(' -> ')}`, host.pos);
    jump = sshTarget(inv, j, [...seen, host.name]);
  }
  return {
    name: host.name,
    address: host.address,
    port: c.port,
    user: c.user,
    identityFiles: c.identity,
    useAgent: true,
    knownHostsFiles: [inv.settings.knownHosts],
    hostKeyPolicy: inv.settings.hostKeyPolicy,
    connectTimeoutMs: c.connectTimeout * 1000,
    keepaliveIntervalMs: 15_000,
    ...(jump ? { jump } : {}),
  };
}

export interface BuiltJobs {
  jobs: HostJob[];
  hosts: HostConfig[];
}

export async function buildJobs(inv: Inventory, hosts: HostConfig[], ssh: ConnectSshOptions = {}): Promise<BuiltJobs> {
  const templates = new TemplateEngine(inv.settings.templatesDir);
  const downloads = new DownloadCache(inv.settings.downloadCache);
  const playbooks = new Map<string, Promise<Playbook>>();
  const errors: ConfigError[] = [];
  const jobs: HostJob[] = [];
  for (const host of hosts) {
    const key = host.playbooks.join('\0');
    if (!playbooks.has(key)) playbooks.set(key, loadPlaybooks(host.playbooks, STEP_KINDS));
    try {
      const playbook = await playbooks.get(key)!;
      const expanded = await expandHost(host, playbook, {
        templates,
        filesDir: inv.settings.filesDir,
        downloads,
        secretValues: inv.secretValues,
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
  return { jobs, hosts };
}

export function lockHolder(): string {
  return `controller=${os.hostname()} user=${os.userInfo().username} pid=${process.pid} started=${new Date().toISOString()}`;
}
