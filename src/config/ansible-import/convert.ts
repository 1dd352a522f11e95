/**
 * An Ansible inventory as a provision inventory. Connection variables become connection
 * keys (ansible_host -> address, ansible_port -> port, ansible_user -> user,
 * ansible_ssh_private_key_file -> identity, ansible_become -> sudo, ansible_timeout ->
 * connect_timeout, a ProxyJump to an inventory host -> jump); other vars stay vars.
 * Everything that cannot be carried (passwords, vaulted values, other connection
 * plugins, unknown ansible_* vars) is left out and listed in `notes`, never dropped
 * silently.
 */
import { BUILTIN_VARS } from '../vars.js';
import { VAULT } from './yaml-inventory.js';
import type { AnsibleInventory } from './model.js';

type Entry = Record<string, unknown>;

const NOT_NEEDED = new Set(['ansible_python_interpreter', 'ansible_ssh_pipelining', 'ansible_pipelining', 'ansible_shell_type', 'ansible_shell_executable']);

/** One var of `owner` (a group or host): a connection key, a var, or a note. */
function carry(owner: string, key: string, value: unknown, out: { conn: Entry; vars: Entry; address?: string }, hosts: Set<string>, notes: string[]): void {
  const note = (why: string): void => void notes.push(`${owner}: ${key} not carried over: ${why}`);
  if (value === VAULT) return note('vaulted value (decrypt it and give it as a provision secret)');
  if (!key.startsWith('ansible_')) {
    if ((BUILTIN_VARS as readonly string[]).includes(key)) return note(`\`${key}\` is a provision built-in var; rename it`);
    out.vars[key] = value;
    return;
  }
  switch (key) {
    case 'ansible_host':
    case 'ansible_ssh_host':
      out.address = String(value);
      return;
    case 'ansible_port':
    case 'ansible_ssh_port':
      out.conn.port = Number(value);
      return;
    case 'ansible_user':
    case 'ansible_ssh_user':
      out.conn.user = String(value);
      return;
    case 'ansible_ssh_private_key_file':
      out.conn.identity = String(value);
      return;
    case 'ansible_become':
      out.conn.sudo = value === true || /^(yes|true|1|on)$/i.test(String(value));
      return;
    case 'ansible_timeout':
      out.conn.connect_timeout = Number(value);
      return;
    case 'ansible_connection':
      if (value !== 'ssh' && value !== 'paramiko' && value !== 'smart') note(`connection \`${String(value)}\` (provision connects over SSH only)`);
      return;
    case 'ansible_ssh_common_args':
    case 'ansible_ssh_extra_args': {
      const jump = /(?:-J\s*|ProxyJump=)(?:[^@\s]+@)?([^:\s'"]+)/.exec(String(value))?.[1];
      if (jump && hosts.has(jump)) out.conn.jump = jump;
      else note(jump ? `jump host \`${jump}\` is not an inventory host (add it, then set \`jump\`)` : `\`${String(value)}\` (set the options in ~/.ssh/config, which provision reads)`);
      return;
    }
    case 'ansible_password':
    case 'ansible_ssh_pass':
      return note('SSH passwords are not used (keys or ssh-agent; `provision bootstrap` installs a key)');
    case 'ansible_become_password':
    case 'ansible_become_pass':
    case 'ansible_sudo_pass':
      return note('give the sudo password in an environment variable named by `sudo_password_env`');
  }
  if (NOT_NEEDED.has(key)) return note('not needed (provision runs POSIX sh on the host, no Python)');
  note('unknown connection variable');
}

function put(target: Entry, conn: Entry, vars: Entry): void {
  Object.assign(target, conn);
  if (Object.keys(vars).length) target.vars = vars;
}

export function toProvision(inv: AnsibleInventory): { inventory: Entry; notes: string[] } {
  const notes = [...inv.notes];
  const hosts = new Set(inv.hostVars.keys());
  const doc: Entry = {};
  const all = inv.groups.get('all')!;
  const top = { conn: {} as Entry, vars: {} as Entry };
  for (const [k, v] of Object.entries(all.vars)) carry('all', k, v, top, hosts, notes);
  if (Object.keys(top.conn).length) doc.defaults = top.conn;
  if (Object.keys(top.vars).length) doc.vars = top.vars;
  const groups: Entry = {};
  for (const [name, g] of inv.groups) {
    if (name === 'all' || name === 'ungrouped') continue;
    const out = { conn: {} as Entry, vars: {} as Entry };
    for (const [k, v] of Object.entries(g.vars)) carry(`group ${name}`, k, v, out, hosts, notes);
    const entry: Entry = {};
    if (g.hosts.length) entry.hosts = g.hosts;
    if (g.children.length) entry.children = g.children;
    put(entry, out.conn, out.vars);
    groups[name] = entry;
  }
  if (Object.keys(groups).length) doc.groups = groups;
  const hostOut: Entry = {};
  for (const [name, vars] of inv.hostVars) {
    const out: { conn: Entry; vars: Entry; address?: string } = { conn: {}, vars: {} };
    for (const [k, v] of Object.entries(vars)) carry(`host ${name}`, k, v, out, hosts, notes);
    const entry: Entry = { address: out.address ?? name };
    put(entry, out.conn, out.vars);
    hostOut[name] = entry;
  }
  doc.hosts = hostOut;
  return { inventory: doc, notes };
}
