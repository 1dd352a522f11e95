/**
 * Inventory connection settings + ssh_config -> SshTarget. The rule:
 *   - ssh_config is looked up with the inventory `address` as the Host alias; its
 *     HostName (when it has one) is where we connect.
 *   - a setting written in the inventory (host, group or defaults) wins over ssh_config;
 *     an inventory default does not.
 *   - the inventory `jump:` (a host name, or null for none) wins over ProxyJump; each
 *     ProxyJump hop is itself looked up in ssh_config, and only the first hop of a chain
 *     keeps its own ProxyJump (what `ssh -J a,b` does).
 */
import { homedir } from 'node:os';
import path from 'node:path';
import { ConnectionError } from '../config/errors.js';
import type { SshTarget } from './connection.js';
import type { JumpSpec, SshConfigFile } from './ssh-config.js';

/** What the inventory says about one host; undefined = not written (a default). */
export interface TargetSpec {
  name: string;
  address: string;
  user?: string;
  port?: number;
  identityFiles?: string[];
  connectTimeoutS?: number;
  knownHostsFiles?: string[];
  hostKeyPolicy?: 'strict' | 'accept-new';
  /** Inventory jump host (resolved spec), null = explicitly none, undefined = ssh_config decides. */
  jump?: TargetSpec | null;
  sudoPassword?: string;
  pty?: boolean;
  maxJumpChannels?: number;
}

export interface TargetDefaults {
  user: string;
  port: number;
  connectTimeoutS: number;
  knownHostsFiles: string[];
  hostKeyPolicy: 'strict' | 'accept-new';
  keepaliveIntervalS: number;
}

export const TARGET_DEFAULTS: TargetDefaults = {
  user: 'root',
  port: 22,
  connectTimeoutS: 10,
  knownHostsFiles: [path.join(homedir(), '.ssh', 'known_hosts')],
  hostKeyPolicy: 'strict',
  keepaliveIntervalS: 15,
};

/** OpenSSH's default identities, tried when neither inventory nor ssh_config names one. */
export function defaultIdentityFiles(): string[] {
  const dir = path.join(homedir(), '.ssh');
  return ['id_rsa', 'id_ecdsa', 'id_ed25519'].map((f) => path.join(dir, f));
}

export function resolveTarget(spec: TargetSpec, config: SshConfigFile, defaults: TargetDefaults = TARGET_DEFAULTS): SshTarget {
  return resolve(spec, config, defaults, [], undefined);
}

function resolve(
  spec: TargetSpec,
  config: SshConfigFile,
  defaults: TargetDefaults,
  seen: string[],
  /** For ProxyJump hops: the chain's earlier hops, which replace the hop's own ProxyJump. */
  forcedJump: SshTarget | null | undefined,
): SshTarget {
  const key = `${spec.user ?? ''}@${spec.address}:${spec.port ?? ''}`;
  if (seen.includes(key)) {
    throw new ConnectionError(`jump hosts form a cycle: ${[...seen, key].map((k) => k.replace(/^@/, '').replace(/:$/, '')).join(' -> ')}`);
  }
  const chain = [...seen, key];
  const c = config.lookup(spec.address);
  const target: SshTarget = {
    name: spec.name,
    address: c.hostName ?? spec.address,
    port: spec.port ?? c.port ?? defaults.port,
    user: spec.user ?? c.user ?? defaults.user,
    identityFiles: spec.identityFiles ?? (c.identityFiles.length > 0 ? c.identityFiles : defaultIdentityFiles()),
    // IdentitiesOnly: only the named files (an agent could offer unrelated keys and hit
    // the server's MaxAuthTries first).
    useAgent: c.identityAgent !== 'none' && !(c.identitiesOnly === true && (spec.identityFiles ?? c.identityFiles).length > 0),
    knownHostsFiles: spec.knownHostsFiles ?? c.userKnownHostsFiles ?? defaults.knownHostsFiles,
    hostKeyPolicy: spec.hostKeyPolicy ?? c.strictHostKeyChecking ?? defaults.hostKeyPolicy,
    connectTimeoutMs: (spec.connectTimeoutS ?? c.connectTimeoutS ?? defaults.connectTimeoutS) * 1000,
    keepaliveIntervalMs: (c.serverAliveIntervalS ?? defaults.keepaliveIntervalS) * 1000,
  };
  if (c.serverAliveCountMax !== undefined) target.keepaliveCountMax = c.serverAliveCountMax;
  if (c.identityAgent !== undefined && c.identityAgent !== 'none' && c.identityAgent !== 'SSH_AUTH_SOCK') target.agentSocket = c.identityAgent;
  if (spec.sudoPassword !== undefined) target.sudoPassword = spec.sudoPassword;
  if (spec.pty !== undefined) target.pty = spec.pty;
  if (spec.maxJumpChannels !== undefined) target.maxJumpChannels = spec.maxJumpChannels;

  let jump: SshTarget | undefined;
  if (spec.jump) {
    jump = resolve(spec.jump, config, defaults, chain, undefined);
  } else if (spec.jump === undefined) {
    if (forcedJump !== undefined) jump = forcedJump ?? undefined;
    // `Host *` + `ProxyJump gw` also matches gw itself: a host never jumps through itself.
    else if (c.proxyJump !== undefined && c.proxyJump !== 'none' && !(c.proxyJump.length === 1 && c.proxyJump[0]!.host === spec.address)) {
      jump = resolveHops(c.proxyJump, spec, config, defaults, chain);
    }
  }
  if (jump) target.jump = jump;
  return target;
}

/** `a,b,c`: a is contacted first (with its own ProxyJump), c is the target's direct jump. */
function resolveHops(hops: JumpSpec[], of: TargetSpec, config: SshConfigFile, defaults: TargetDefaults, seen: string[]): SshTarget {
  let previous: SshTarget | undefined;
  hops.forEach((hop, i) => {
    const spec: TargetSpec = { name: hop.host, address: hop.host };
    if (hop.user !== undefined) spec.user = hop.user;
    if (hop.port !== undefined) spec.port = hop.port;
    // A hop inherits nothing from the inventory host but the policy for unknown keys.
    if (of.hostKeyPolicy !== undefined) spec.hostKeyPolicy = of.hostKeyPolicy;
    if (of.knownHostsFiles !== undefined) spec.knownHostsFiles = of.knownHostsFiles;
    previous = resolve(spec, config, defaults, seen, i === 0 ? undefined : (previous ?? null));
  });
  return previous!;
}
