/**
 * The inventory file format, as strict zod schemas (unknown keys are errors). Every key is
 * documented here; `schemas/inventory.schema.json` is generated from these for editors.
 *
 *   settings:            tool settings, all optional; paths relative to the inventory file
 *     playbooks_dir      where playbook names resolve (`lb` -> DIR/lb.yaml); default ../playbooks
 *     templates_dir      nunjucks templates; default ../templates
 *     files_dir          plain files copied to hosts; default ../files
 *     known_hosts        host keys to verify against; default ~/.ssh/known_hosts
 *     host_key_policy    `strict` (unknown keys refused) or `accept-new` (trust on first use)
 *     forks              hosts worked on at once; positive integer, default 20
 *     lock_file          remote lock path (flock); default /run/lock/provision.lock
 *     download_cache     controller-side cache of downloads; default ~/.cache/provision
 *     ssh_config         OpenSSH client config honoured for host aliases and patterns
 *                        (HostName, User, Port, IdentityFile, ProxyJump, ...); default
 *                        ~/.ssh/config (skipped when missing); false = none. Settings
 *                        written in the inventory win over it.
 *     jump_channels      tunnels opening at once through one jump host connection
 *                        (keep under its MaxSessions/MaxStartups); default 8
 *   defaults:            connection settings for every host (keys below)
 *   vars:                global vars, any YAML; see vars.ts for precedence
 *   secrets:             NAME: {env: VAR} or {file: PATH}; values never printed
 *   groups:              NAME: {hosts, children, vars, playbooks, + connection keys}
 *     hosts              host names from `hosts:`
 *     children           groups whose hosts also belong to this group
 *     vars               group vars (override global vars; parent groups before children)
 *     playbooks          playbook names in playbooks_dir or paths relative to the inventory
 *     serial, max_fail, restore, health   rolling apply (see rollout-schema.ts)
 *   hosts:               NAME: {address, vars, playbooks, + connection keys}
 *     address            required: IP address or DNS name
 *   bootstrap:           `provision bootstrap` (first contact), all optional
 *     user               provisioning user to create; default: each host's connection user
 *     authorized_keys    public key file(s) installed for it; default: identity files + .pub
 *     sudo               sudoers rule after the user name, or false for none;
 *                        default `ALL=(ALL) NOPASSWD:ALL`
 *     packages           Debian packages installed first; default [sudo]
 *     apt_cache_max_age  seconds before apt lists are refreshed; default 86400
 *     harden_ssh         sshd drop-in: no passwords, root by key only; default true
 *     initial_user       user of the initial credentials; default root
 *     initial_identity   private key of the initial credentials (else a password)
 *
 * Connection keys (in `defaults`, a group or a host; host > group > defaults):
 *     user               SSH user; default root
 *     port               SSH port 1-65535; default 22
 *     identity           private key file or list of files; `~` expanded, relative to the
 *                        inventory file; default none (ssh-agent)
 *     sudo               run scripts through `sudo -n`; default false
 *     jump               name of another inventory host to jump through, or null
 *     connect_timeout    seconds; default 10
 *     host_key_policy    per-host override of settings.host_key_policy
 *     sudo_password_env  environment variable holding the sudo password (sent on stdin
 *                        to `sudo -S`, never in argv); default none: `sudo -n`
 *     pty                run sudo with a pseudo-terminal (sudoers `requiretty`); default
 *                        false, and detected from sudo's refusal
 *     lock_file          host-side lock path overriding settings.lock_file (for aliases of
 *                        one machine that must not exclude each other)
 */
import { z } from 'zod';
import { rolloutGroupShape } from './rollout-schema.js';

const str = (what = 'a string') => z.string({ error: `expected ${what}` });
const strList = z.array(str(), { error: 'expected a list of strings' });
const anyMap = z.record(z.string(), z.unknown(), { error: 'expected a map' });

export const connectionShape = {
  user: str('a user name (string)').min(1).optional(),
  port: z.number({ error: 'expected a port number (1-65535)' }).int().min(1).max(65535).optional(),
  identity: z.union([str(), strList], { error: 'expected a string or a list of strings' }).optional(),
  sudo: z.boolean({ error: 'expected a boolean (true or false)' }).optional(),
  jump: z.string({ error: 'expected a host name or null' }).nullable().optional(),
  connect_timeout: z.number({ error: 'expected a positive number of seconds' }).positive().optional(),
  host_key_policy: z.enum(['strict', 'accept-new']).optional(),
  sudo_password_env: str('an environment variable name').regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name').optional(),
  pty: z.boolean({ error: 'expected a boolean (true or false)' }).optional(),
  // Several inventory hosts that are one machine (aliases) need one lock each.
  lock_file: str('an absolute path on the host').regex(/^\//, 'expected an absolute path on the host').optional(),
};

export const settingsSchema = z.strictObject({
  playbooks_dir: str('a directory path').optional(),
  templates_dir: str('a directory path').optional(),
  files_dir: str('a directory path').optional(),
  known_hosts: str('a file path').optional(),
  host_key_policy: z.enum(['strict', 'accept-new']).optional(),
  forks: z.number({ error: 'expected a positive integer' }).int().positive().optional(),
  lock_file: str('a file path').optional(),
  download_cache: str('a directory path').optional(),
  ssh_config: z.union([str('a file path'), z.literal(false)], { error: 'expected a file path or false' }).optional(),
  jump_channels: z.number({ error: 'expected a positive integer' }).int().positive().optional(),
});

export const secretSchema = z.strictObject({
  env: str('an environment variable name').optional(),
  file: str('a file path').optional(),
});

export const groupSchema = z.strictObject({
  hosts: strList.optional(),
  children: strList.optional(),
  vars: anyMap.optional(),
  playbooks: strList.optional(),
  ...connectionShape,
  ...rolloutGroupShape,
});

export const hostSchema = z.strictObject({
  address: str('an address (IP or DNS name)').min(1),
  vars: anyMap.optional(),
  playbooks: strList.optional(),
  ...connectionShape,
});

export const bootstrapSchema = z.strictObject({
  user: str('a user name').min(1).optional(),
  authorized_keys: z.union([str(), strList], { error: 'expected a string or a list of strings' }).optional(),
  sudo: z
    .union([z.literal(false), str('a sudoers rule such as `ALL=(ALL) NOPASSWD:ALL`, or false').min(1).regex(/^[^\n]+$/, 'expected one line')], {
      error: 'expected a sudoers rule such as `ALL=(ALL) NOPASSWD:ALL`, or false',
    })
    .optional(),
  packages: strList.optional(),
  apt_cache_max_age: z.number({ error: 'expected seconds (a whole number)' }).int().nonnegative().optional(),
  harden_ssh: z.boolean({ error: 'expected a boolean (true or false)' }).optional(),
  initial_user: str('a user name').min(1).optional(),
  initial_identity: str('a file path').optional(),
});

export const inventorySchema = z.strictObject({
  settings: settingsSchema.optional(),
  defaults: z.strictObject(connectionShape).optional(),
  vars: anyMap.optional(),
  secrets: z.record(z.string(), secretSchema, { error: 'expected a map of secrets' }).optional(),
  groups: z.record(z.string(), groupSchema, { error: 'expected a map of groups' }).optional(),
  hosts: z.record(z.string(), hostSchema, { error: 'expected a map of hosts' }),
  bootstrap: bootstrapSchema.optional(),
});

export type InventoryFile = z.infer<typeof inventorySchema>;
export type ConnectionKeys = z.infer<z.ZodObject<typeof connectionShape>>;
