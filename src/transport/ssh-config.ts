/**
 * OpenSSH client configuration (`~/.ssh/config`, or the file the inventory names), parsed
 * by the `ssh-config` package and reduced to the options provision honours:
 *   HostName User Port IdentityFile(s) IdentitiesOnly IdentityAgent ProxyJump
 *   ConnectTimeout ServerAliveInterval ServerAliveCountMax StrictHostKeyChecking
 *   UserKnownHostsFile
 * First obtained value wins (ssh_config(5)); IdentityFile accumulates. `Match exec` is
 * never run (no shell from a config file); `Include` is expanded at the top level.
 * The merge with inventory settings (inventory wins when set explicitly) is in
 * `applySshConfig`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import path from 'node:path';
import SSHConfig, { LineType, type Line } from 'ssh-config';
import { ConnectionError } from '../config/errors.js';

export interface SshConfigHost {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  identitiesOnly?: boolean;
  /** `none` disables the agent; a path replaces $SSH_AUTH_SOCK. */
  identityAgent?: string;
  /** Hops in connection order (first is contacted first), or `none`. */
  proxyJump?: JumpSpec[] | 'none';
  connectTimeoutS?: number;
  serverAliveIntervalS?: number;
  serverAliveCountMax?: number;
  strictHostKeyChecking?: 'strict' | 'accept-new';
  userKnownHostsFiles?: string[];
}

/** One ProxyJump hop: `[user@]host[:port]` or `ssh://[user@]host[:port]`. */
export interface JumpSpec {
  host: string;
  user?: string;
  port?: number;
}

export class SshConfigFile {
  private constructor(
    readonly file: string,
    private readonly config: SSHConfig,
  ) {}

  /** An empty configuration (no file). */
  static empty(): SshConfigFile {
    return new SshConfigFile('(none)', SSHConfig.parse(''));
  }

  static parse(text: string, file = '(inline)'): SshConfigFile {
    return new SshConfigFile(file, expandIncludes(SSHConfig.parse(text), 0));
  }

  /**
   * Reads `file`; a missing file is an empty config unless `required` (the inventory
   * named it explicitly).
   */
  static load(file: string, required: boolean): SshConfigFile {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !required) return SshConfigFile.empty();
      throw new ConnectionError(`cannot read ssh_config ${file}: ${(err as Error).message}`);
    }
    return SshConfigFile.parse(text, file);
  }

  /** The options for `alias` (what one would type after `ssh`). */
  lookup(alias: string): SshConfigHost {
    const raw = this.config.compute(alias, { ignoreCase: true, matchExec: false });
    const one = (key: string): string | undefined => {
      const v = raw[key];
      const s = Array.isArray(v) ? v[0] : v;
      return s === undefined ? undefined : s;
    };
    const list = (key: string): string[] => {
      const v = raw[key];
      return v === undefined ? [] : Array.isArray(v) ? v : v.split(/\s+/).filter(Boolean);
    };
    const hostName = one('hostname');
    const user = one('user');
    const port = one('port');
    const out: SshConfigHost = { identityFiles: [] };
    // In HostName itself %h is the alias; everywhere else it is the expanded HostName.
    const realHost = hostName !== undefined ? expandTokens(hostName, { alias, hostName: alias, user, port }) : alias;
    const tokens = (s: string): string => expandTokens(s, { alias, hostName: realHost, user, port });
    if (hostName !== undefined) out.hostName = realHost;
    if (user !== undefined) out.user = user;
    if (port !== undefined) out.port = this.int(port, 'Port', alias, 1, 65535);
    out.identityFiles = list('identityfile').filter((f) => f.toLowerCase() !== 'none').map((f) => expandPath(tokens(f)));
    const io = one('identitiesonly');
    if (io !== undefined) out.identitiesOnly = yes(io);
    const agent = one('identityagent');
    if (agent !== undefined) out.identityAgent = agent === 'none' || agent === 'SSH_AUTH_SOCK' ? agent : expandPath(tokens(agent));
    const pj = one('proxyjump');
    if (pj !== undefined) out.proxyJump = pj.toLowerCase() === 'none' ? 'none' : parseProxyJump(pj);
    const ct = one('connecttimeout');
    if (ct !== undefined && ct !== 'none') out.connectTimeoutS = this.int(ct, 'ConnectTimeout', alias, 1);
    const sai = one('serveraliveinterval');
    if (sai !== undefined) out.serverAliveIntervalS = this.int(sai, 'ServerAliveInterval', alias, 0);
    const sacm = one('serveralivecountmax');
    if (sacm !== undefined) out.serverAliveCountMax = this.int(sacm, 'ServerAliveCountMax', alias, 1);
    const shk = one('stricthostkeychecking');
    if (shk !== undefined) out.strictHostKeyChecking = hostKeyPolicyOf(shk);
    const ukh = list('userknownhostsfile');
    if (ukh.length > 0 && ukh[0] !== 'none') out.userKnownHostsFiles = ukh.map((f) => expandPath(tokens(f)));
    return out;
  }

  private int(value: string, key: string, alias: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw new ConnectionError(`${this.file}: ${key} ${value} (for ${alias}) is not a valid number`);
    }
    return n;
  }
}

function yes(v: string): boolean {
  return /^(yes|true)$/i.test(v);
}

/**
 * StrictHostKeyChecking: `yes`/`ask` are strict (nobody to ask in a batch run);
 * `accept-new`, `no` and `off` are trust on first use. A CHANGED key is refused whatever
 * the setting: provision has no "accept anything" mode.
 */
function hostKeyPolicyOf(v: string): 'strict' | 'accept-new' {
  return /^(yes|ask|true)$/i.test(v) ? 'strict' : 'accept-new';
}

/** `a,user@b:2222,ssh://c` -> hops. */
export function parseProxyJump(value: string): JumpSpec[] {
  return value.split(',').map((raw) => {
    let s = raw.trim().replace(/^ssh:\/\//, '');
    const spec: JumpSpec = { host: '' };
    const at = s.lastIndexOf('@');
    if (at >= 0) {
      spec.user = s.slice(0, at);
      s = s.slice(at + 1);
    }
    const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
    const plain = /^([^:]+)(?::(\d+))?$/.exec(s);
    const m = bracket ?? plain;
    if (!m || !m[1]) throw new ConnectionError(`invalid ProxyJump hop \`${raw.trim()}\``);
    spec.host = m[1];
    if (m[2] !== undefined) spec.port = Number(m[2]);
    return spec;
  });
}

interface TokenContext {
  alias: string;
  hostName: string;
  user: string | undefined;
  port: string | undefined;
}

/** ssh_config TOKENS: %% %h %n %p %r %u %d %i; others are left as written. */
export function expandTokens(s: string, ctx: TokenContext): string {
  return s.replace(/%([%hnprudi])/g, (_, t: string) => {
    switch (t) {
      case '%':
        return '%';
      case 'h':
        return ctx.hostName;
      case 'n':
        return ctx.alias;
      case 'p':
        return ctx.port ?? '22';
      case 'r':
        return ctx.user ?? userInfo().username;
      case 'u':
        return userInfo().username;
      case 'd':
        return homedir();
      case 'i':
        return String(process.getuid?.() ?? '');
      default:
        return _;
    }
  });
}

function expandPath(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return path.join(homedir(), p.slice(2));
  return p;
}

/**
 * `Include` at the top level (before any Host): the named files' lines replace it.
 * Relative paths are under ~/.ssh as in OpenSSH; globs match `*` in the last component.
 * Includes inside Host/Match blocks are left alone (the package does not apply them).
 */
function expandIncludes(config: SSHConfig, depth: number): SSHConfig {
  if (depth > 16) throw new ConnectionError('ssh_config Include nested too deeply');
  const out = SSHConfig.parse('');
  for (const line of config as Line[]) {
    if (line.type === LineType.DIRECTIVE && /^include$/i.test(line.param)) {
      const values = Array.isArray(line.value) ? line.value.map((v) => v.val) : line.value.split(/\s+/);
      for (const v of values) {
        for (const file of globFiles(expandPath(v), path.join(homedir(), '.ssh'))) {
          let text: string;
          try {
            text = readFileSync(file, 'utf8');
          } catch {
            continue;
          }
          out.push(...(expandIncludes(SSHConfig.parse(text), depth + 1) as Line[]));
        }
      }
      continue;
    }
    out.push(line);
  }
  return out;
}

function globFiles(pattern: string, relativeTo: string): string[] {
  const abs = path.isAbsolute(pattern) ? pattern : path.join(relativeTo, pattern);
  const dir = path.dirname(abs);
  const base = path.basename(abs);
  if (!/[*?]/.test(base)) return [abs];
  const re = new RegExp('^' + base.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
  try {
    return readdirSync(dir)
      .filter((f) => re.test(f))
      .sort()
      .map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}
