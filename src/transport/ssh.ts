/**
 * The ssh2 implementation of `Connection`: one client per host for the whole run,
 * host keys verified against known_hosts, agent and identity-file auth, keepalives,
 * and an optional jump host (connected first, the target reached through a
 * `direct-tcpip` channel on it; a jump with its own jump recurses).
 *
 * Jump hosts are shared: every host behind one bastion (same user@address:port chain)
 * uses ONE connection to it, reference-counted and closed when its last user closes.
 * Tunnels through it open at most `maxJumpChannels` (default 8) at a time, so a run with
 * --forks 100 queues behind the bastion's MaxSessions/MaxStartups instead of failing.
 *
 * A direct connect that fails at the socket level (refused, unreachable, TCP timeout) is
 * retried with backoff; nothing else is (authentication, host keys, and never a command).
 */
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { Client as ClientType, ConnectConfig } from 'ssh2';
import { ConnectionError, HostKeyError } from '../config/errors.js';
import { planAuth } from './auth.js';
import { connectFailure } from './connect-errors.js';
import type { Connection, ExecOptions, ExecResult, SshTarget } from './connection.js';
import { hostLabel, prepareHostKeyCheck, type NewHostKey } from './host-key.js';
import { runExec, type ExecContext, type ScriptSource } from './remote-exec.js';
import { armConnectPhases, DEFAULT_AUTH_TIMEOUT_MS } from './connect-phases.js';

const { Client } = ssh2;

export interface ConnectSshOptions {
  /** Called when accept-new recorded a host key (the target's or the jump host's). */
  onNewHostKey?: (info: NewHostKey) => void;
  /** ssh2's debug lines, for `--verbose` troubleshooting. */
  debug?: (message: string) => void;
  /** Waits before each retry of a direct connect refused/unreachable/timed out; default 0.5, 1, 2 s. */
  retryDelaysMs?: readonly number[];
  /** Called before each retry (verbose logs; tests). */
  onRetry?: (info: { label: string; attempt: number; delayMs: number; reason: string }) => void;
  /** Shared jump host connections; default: one pool per process. */
  jumpPool?: JumpPool;
}

export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [500, 1000, 2000];
export const DEFAULT_MAX_JUMP_CHANNELS = 8;

/** Socket errors worth another try: the host may be booting or the network flapping. */
const RETRYABLE = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH']);

export async function connectSsh(target: SshTarget, options: ConnectSshOptions = {}): Promise<Connection> {
  let label = hostLabel(target);
  if (!target.jump) {
    const client = await openWithRetry(target, label, options);
    return new SshConnection(target, label, client, undefined);
  }
  const pool = options.jumpPool ?? defaultJumpPool;
  const jump = await pool.acquire(target.jump, options);
  label += ` via ${hostLabel(target.jump)}`;
  try {
    const client = await jump.conn.withTunnelSlot(async () => {
      let sock: Duplex;
      try {
        sock = await jump.conn.forwardOut(target.address, target.port);
      } catch (err) {
        throw new ConnectionError(`cannot connect to ${label}: ${(err as Error).message}`, undefined, { cause: err });
      }
      return openClient(target, label, sock, options);
    });
    return new SshConnection(target, hostLabel(target), client, jump);
  } catch (err) {
    await jump.close();
    throw err;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function openWithRetry(target: SshTarget, label: string, options: ConnectSshOptions): Promise<ClientType> {
  const delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await openClient(target, label, undefined, options);
    } catch (err) {
      const code = ((err as Error).cause as { code?: string } | undefined)?.code;
      const delay = delays[attempt];
      if (!(err instanceof ConnectionError) || code === undefined || !RETRYABLE.has(code)) throw err;
      if (delay === undefined) {
        if (attempt === 0) throw err;
        throw new ConnectionError(`${err.shortMessage} (${attempt + 1} attempts)`, err.detail, { cause: err.cause });
      }
      options.onRetry?.({ label, attempt: attempt + 1, delayMs: delay, reason: err.shortMessage });
      await sleep(delay);
    }
  }
}

/** A counting semaphore: at most `limit` holders, the rest wait in order. */
class Slots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** Highest number of simultaneous holders seen (for tests and diagnostics). */
  peak = 0;
  constructor(private readonly limit: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    this.peak = Math.max(this.peak, this.active);
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter (active stays the same).
      if (next) next();
      else this.active--;
    }
  }
}

/** Key of a jump connection: the whole chain, so two routes to one host never mix. */
export function chainKey(t: SshTarget): string {
  const hop = `${t.user}@${t.address}:${t.port}`;
  return t.jump ? `${chainKey(t.jump)}>${hop}` : hop;
}

interface PoolEntry {
  conn: Promise<SshConnection>;
  users: number;
}

/** A handle on a shared connection: close() releases this user's reference. */
interface JumpLease {
  conn: SshConnection;
  close(): Promise<void>;
}

export class JumpPool {
  private readonly entries = new Map<string, PoolEntry>();

  /** Connections currently held (tests, diagnostics). */
  size(): number {
    return this.entries.size;
  }

  /** For a held jump connection: users now, and the most tunnels ever opening at once. */
  async stats(target: SshTarget): Promise<{ users: number; peakTunnels: number } | undefined> {
    const entry = this.entries.get(chainKey(target));
    if (!entry) return undefined;
    const conn = await entry.conn;
    return { users: entry.users, peakTunnels: conn.tunnels.peak };
  }

  async acquire(target: SshTarget, options: ConnectSshOptions): Promise<JumpLease> {
    const key = chainKey(target);
    let entry = this.entries.get(key);
    if (entry) {
      // A bastion that went away is replaced for newcomers; its old users keep theirs.
      const existing = await entry.conn.catch(() => undefined);
      if (existing?.isLost() && this.entries.get(key) === entry) {
        this.entries.delete(key);
        entry = undefined;
      } else {
        entry = this.entries.get(key);
      }
    }
    if (!entry) {
      const created: PoolEntry = {
        conn: connectSsh(target, options).then((c) => c as SshConnection),
        users: 0,
      };
      entry = created;
      this.entries.set(key, created);
      created.conn.catch(() => {
        if (this.entries.get(key) === created) this.entries.delete(key);
      });
    }
    entry.users++;
    const held = entry;
    let conn: SshConnection;
    try {
      conn = await held.conn;
    } catch (err) {
      held.users--;
      throw err;
    }
    let released = false;
    return {
      conn,
      close: async () => {
        if (released) return;
        released = true;
        held.users--;
        if (held.users === 0) {
          if (this.entries.get(key) === held) this.entries.delete(key);
          await conn.close();
        }
      },
    };
  }
}

const defaultJumpPool = new JumpPool();

async function openClient(
  target: SshTarget,
  label: string,
  sock: Duplex | undefined,
  options: ConnectSshOptions,
): Promise<ClientType> {
  const hostKeys = await prepareHostKeyCheck(target, options.onNewHostKey ? { onNewHostKey: options.onNewHostKey } : {});
  const auth = await planAuth(target);
  if (auth.methods.length === 0) {
    throw new ConnectionError(
      `cannot connect to ${label}: no credentials for ${target.user} ` +
        `(no identity file found among ${target.identityFiles.join(', ') || 'none'}, and no ssh-agent)`,
    );
  }
  const config: ConnectConfig = {
    host: target.address,
    port: target.port,
    username: target.user,
    hostVerifier: hostKeys.verifier,
    algorithms: { serverHostKey: hostKeys.serverHostKey as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] },
    authHandler: auth.methods,
    readyTimeout: 0, // the two limits are armed below: connect + key exchange, then authentication
    keepaliveInterval: target.keepaliveIntervalMs,
    keepaliveCountMax: target.keepaliveCountMax ?? 3,
  };
  if (sock) config.sock = sock;
  if (options.debug) config.debug = options.debug;

  const client = new Client();
  return new Promise<ClientType>((resolve, reject) => {
    let settled = false;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      disarm();
      client.end();
      // The verifier knows why it said no; ssh2 only says "Host denied".
      const refusal = hostKeys.refusal();
      if (refusal) return reject(refusal);
      if (err instanceof HostKeyError || err instanceof ConnectionError) return reject(err);
      reject(
        connectFailure(err, {
          label,
          user: target.user,
          connectTimeoutMs: target.connectTimeoutMs,
          triedAuth: auth.tried,
        }),
      );
    };
    const limits = { connectTimeoutMs: target.connectTimeoutMs, authTimeoutMs: target.authTimeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS, label, user: target.user };
    const disarm = armConnectPhases(client, limits, fail);
    client.once('ready', () => {
      settled = true;
      disarm();
      resolve(client);
    });
    client.on('error', fail);
    client.once('close', () => fail(new Error('connection closed during the SSH handshake')));
    try {
      client.connect(config);
    } catch (err) {
      fail(err);
    }
  });
}

export class SshConnection implements Connection {
  readonly hostName: string;
  private lost = false;
  private closing: Promise<void> | undefined;
  /** Tunnels being opened through this connection when it serves as a jump host. */
  readonly tunnels: Slots;
  /** `requiretty` detected on this host: sudo runs with a pty from then on. */
  private needsPty: boolean;

  constructor(
    private readonly target: SshTarget,
    private readonly label: string,
    private readonly client: ClientType,
    private readonly jump: JumpLease | undefined,
  ) {
    this.hostName = target.name;
    this.tunnels = new Slots(target.maxJumpChannels ?? DEFAULT_MAX_JUMP_CHANNELS);
    this.needsPty = target.pty ?? false;
    const markLost = (): void => {
      this.lost = true;
    };
    // An 'error' without a listener would crash the process (keepalive timeouts, resets);
    // the next exec reports the loss instead.
    client.on('error', markLost);
    client.on('end', markLost);
    client.on('close', markLost);
  }

  isLost(): boolean {
    return this.lost;
  }

  withTunnelSlot<T>(fn: () => Promise<T>): Promise<T> {
    return this.tunnels.run(fn);
  }

  exec(script: ScriptSource, options?: ExecOptions): Promise<ExecResult> {
    if (this.closing) return Promise.reject(new Error(`exec on ${this.label} after close()`));
    const ctx: ExecContext = {
      client: this.client,
      user: this.target.user,
      label: this.label,
      isLost: () => this.lost,
      pty: this.needsPty,
      onPtyRequired: () => {
        this.needsPty = true;
      },
    };
    if (this.target.sudoPassword !== undefined) ctx.sudoPassword = this.target.sudoPassword;
    return runExec(ctx, script, options);
  }

  /** See Connection.execDeferred: the transport builds the script once sshd has started the session. */
  execDeferred(build: () => string, options?: ExecOptions): Promise<ExecResult> {
    return this.exec(build, options);
  }

  acceptsPayloads(): boolean {
    return !this.needsPty;
  }

  /** A `direct-tcpip` channel to host:port, seen from this host: the next hop's socket. */
  forwardOut(host: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      this.client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
        if (err) reject(new Error(`${this.label} could not open a tunnel to ${host}:${port}: ${err.message}`));
        else resolve(stream);
      });
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.lost) {
        await new Promise<void>((resolve) => {
          this.client.once('close', () => resolve());
          this.client.end();
          // Do not hang a run on a peer that never answers the disconnect.
          setTimeout(resolve, 2000).unref();
        });
      }
      this.lost = true;
      await this.jump?.close();
    })();
    return this.closing;
  }
}
