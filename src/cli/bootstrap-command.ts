/**
 * `provision bootstrap INVENTORY --host NAME`: first contact with fresh machines. This file
 * only gathers inputs (inventory, public keys, initial credentials, SSH targets) and
 * prints; the flow itself is src/engine/bootstrap.ts.
 *
 * Initial credentials: `--initial-key FILE` (with `--initial-user`, default root), or a
 * password from `--password-env VAR` or a prompt on the terminal. The password is read
 * only when a host actually needs it (a host already bootstrapped is reached with the
 * provisioning user's key), never travels in argv and is masked in all output.
 */
import { setMaxListeners } from 'node:events';
import { readFile } from 'node:fs/promises';
import { ConfigError, ConnectionError, ProvisionError } from '../config/errors.js';
import type { HostConfig, Inventory } from '../config/inventory.js';
import { loadInventory } from '../config/inventory.js';
import { displayPath } from '../config/paths.js';
import { bootstrapAll, type BootstrapJob } from '../engine/bootstrap.js';
import { BootstrapSpecError, DEFAULT_SUDO_RULE, baseSteps, defaultHome, type BootstrapSpec } from '../engine/bootstrap-steps.js';
import { writeJsonReport } from '../report/json.js';
import { PlainReporter } from '../report/plain.js';
import { Redactor } from '../report/redact.js';
import type { SshTarget } from '../transport/connection.js';
import { fingerprint, loadKnownHosts, lookup } from '../transport/known-hosts.js';
import { connectSsh, type ConnectSshOptions } from '../transport/ssh.js';
import { printError } from './errors.js';
import { lockHolder, sshTarget } from '../compile/jobs.js';
import { promptHidden } from './prompt.js';
import { selectHosts } from './select.js';
import type { Shard } from '../config/shard.js';

export interface BootstrapCommandOptions {
  host?: string;
  limit?: string;
  shard?: Shard;
  forks?: number;
  json?: string;
  passwordEnv?: string;
  initialUser?: string;
  initialKey?: string;
  expectFingerprint?: string;
  /** commander's `--no-harden`: false when given. */
  harden?: boolean;
}

/** A Redactor that learns the password once it has been read. */
class LateRedactor extends Redactor {
  private extra = new Redactor([]);
  add(secret: string): void {
    this.extra = new Redactor([secret]);
  }
  override redact(text: string): string {
    return this.extra.redact(super.redact(text));
  }
}

const PUBLIC_KEY = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+={0,2}( .*)?$/;

/** The lines of authorized_keys from public key files on the controller. */
export async function readPublicKeys(files: readonly string[], pos?: ConfigError['pos']): Promise<string> {
  const lines: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`bootstrap: cannot read public key ${displayPath(file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, pos);
    }
    if (text.includes('PRIVATE KEY')) throw new ConfigError(`bootstrap: ${displayPath(file)} is a PRIVATE key; authorized_keys takes public keys (.pub)`, pos);
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      if (!PUBLIC_KEY.test(line)) throw new ConfigError(`bootstrap: ${displayPath(file)} does not hold an OpenSSH public key line`, pos);
      if (!lines.includes(line)) lines.push(line);
    }
  }
  if (!lines.length) throw new ConfigError('bootstrap: no public key to install for the provisioning user (set bootstrap.authorized_keys, or an identity whose .pub exists)', pos);
  return lines.join('\n') + '\n';
}

export async function bootstrapSpec(inv: Inventory, host: HostConfig, opts: BootstrapCommandOptions): Promise<BootstrapSpec> {
  const b = inv.bootstrap;
  const user = b.user ?? host.connection.user;
  const keyFiles = b.authorizedKeys ?? host.connection.identity.map((f) => `${f}.pub`);
  const spec: BootstrapSpec = {
    user,
    home: defaultHome(user),
    authorizedKeys: await readPublicKeys(keyFiles, b.pos),
    sudoRule: b.sudo === false ? null : (b.sudo ?? DEFAULT_SUDO_RULE),
    packages: b.packages ?? [],
    aptCacheMaxAge: b.aptCacheMaxAge ?? 86400,
    hardenSsh: opts.harden !== false && b.hardenSsh,
  };
  try {
    baseSteps(spec); // every step body checked before anything connects
  } catch (e) {
    if (e instanceof BootstrapSpecError) throw new ConfigError(e.message, b.pos);
    throw e;
  }
  return spec;
}

/** The host refused these credentials (or there were none): not bootstrapped yet. */
function isAuthRefusal(e: unknown): boolean {
  if (!(e instanceof ConnectionError)) return false;
  const level = (e.cause as { level?: string } | undefined)?.level;
  return level === 'client-authentication' || / no credentials for /.test(e.message);
}

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

export async function bootstrapCommand(inventoryFile: string, opts: BootstrapCommandOptions): Promise<number> {
  const redactor = new LateRedactor([]);
  try {
    if (opts.host && opts.limit) throw new ProvisionError('E_USAGE', 'give either --host or --limit, not both');
    if (opts.expectFingerprint !== undefined && !FINGERPRINT.test(opts.expectFingerprint)) {
      throw new ProvisionError('E_USAGE', `--expect-fingerprint: expected SHA256: and 43 base64 characters, as \`ssh-keygen -lf\` prints, got ${opts.expectFingerprint}`);
    }
    if (opts.passwordEnv && opts.initialKey) throw new ProvisionError('E_USAGE', 'give either --password-env or --initial-key, not both');
    const inv = await loadInventory(inventoryFile);
    const hosts = selectHosts(inv, opts.host ?? opts.limit, opts.shard);
    if (opts.expectFingerprint && hosts.length !== 1) {
      throw new ProvisionError('E_USAGE', `--expect-fingerprint names one host's key, but ${hosts.length} hosts are selected; select one with --host`);
    }
    const specs = await Promise.all(hosts.map((h) => bootstrapSpec(inv, h, opts)));
    const initialUser = opts.initialUser ?? inv.bootstrap.initialUser;
    const initialKey = opts.initialKey ?? inv.bootstrap.initialIdentity ?? undefined;
    const initialLabel = `${initialUser} (${initialKey ? `key ${displayPath(initialKey)}` : 'password'})`;

    const out = (host: string, text: string) => process.stdout.write(redactor.redact(`${host}: ${text}`) + '\n');
    const sshOpts: ConnectSshOptions = {
      onNewHostKey: (k) => out(k.host, `recorded host key ${k.keyType} ${k.fingerprint} in ${displayPath(k.file)}`),
    };

    // One password for the run, asked for (or read) only when a host needs it.
    let password: Promise<string> | undefined;
    const getPassword = (): Promise<string> => {
      password ??= (async () => {
        let value: string | undefined;
        if (opts.passwordEnv) {
          value = process.env[opts.passwordEnv];
          if (!value) throw new ConnectionError(`--password-env ${opts.passwordEnv}: the variable is not set or empty`);
        } else if (process.stdin.isTTY) {
          value = await promptHidden(`password for ${initialUser}: `);
        } else {
          throw new ConnectionError('no initial credentials: give --password-env VAR, or --initial-key FILE, or run on a terminal to be asked');
        }
        redactor.add(value);
        return value;
      })();
      return password;
    };

    const known = lookupKnown(await loadKnownHosts([inv.settings.knownHosts]));
    const jobs: BootstrapJob[] = hosts.map((host, i) => {
      const spec = specs[i]!;
      const base: SshTarget = {
        ...sshTarget(inv, host),
        hostKeyPolicy: 'accept-new',
        ...(opts.expectFingerprint ? { expectFingerprint: opts.expectFingerprint } : {}),
      };
      const recorded = known(host.address, host.connection.port);
      if (recorded.length) out(host.name, `host key already recorded: ${recorded.join(', ')}`);
      const userTarget: SshTarget = { ...base, user: spec.user };
      return {
        name: host.name,
        spec,
        lockFile: host.connection.lockFile ?? inv.settings.lockFile,
        initialLabel,
        initialSudo: initialUser !== 'root',
        connectAsUser: async () => {
          try {
            return await connectSsh(userTarget, sshOpts);
          } catch (e) {
            if (isAuthRefusal(e)) return null;
            throw e;
          }
        },
        connectInitial: async () => {
          // The provisioning user's sudo password (if any) is not the initial user's.
          const { sudoPassword: _unused, ...rest } = base;
          const target: SshTarget = { ...rest, user: initialUser, identityFiles: initialKey ? [initialKey] : [], useAgent: false };
          if (!initialKey) {
            target.password = await getPassword();
            // A non-root initial user with a password: sudo asks for that same password.
            if (initialUser !== 'root') target.sudoPassword = target.password;
          }
          return connectSsh(target, sshOpts);
        },
      };
    });

    const reporter = new PlainReporter({ redactor, showDiff: false, color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR });
    const abort = new AbortController();
    // Every host in flight listens for the stop: not a leak, however many hosts there are.
    setMaxListeners(0, abort.signal);
    const onSigint = () => {
      if (abort.signal.aborted) process.exit(130);
      process.stderr.write('\ninterrupted: finishing running steps, starting no new ones (Ctrl-C again to quit now)\n');
      abort.abort();
    };
    process.on('SIGINT', onSigint);
    let results;
    try {
      results = await bootstrapAll(jobs, { forks: opts.forks ?? inv.settings.forks, signal: abort.signal, holder: lockHolder(), note: out }, reporter);
    } finally {
      process.off('SIGINT', onSigint);
    }
    if (opts.json) await writeJsonReport(opts.json, results, 'apply', redactor);
    if (abort.signal.aborted) return 130;
    return results.some((r) => r.status === 'failed' || r.status === 'unreachable') ? 1 : 0;
  } catch (e) {
    return printError(e, redactor);
  }
}

/** `ssh-ed25519 SHA256:...` of every key recorded for host:port. */
function lookupKnown(entries: Awaited<ReturnType<typeof loadKnownHosts>>) {
  return (address: string, port: number): string[] => lookup(entries, address, port).keys.map((k) => `${k.keyType} ${fingerprint(k.key)}`);
}
