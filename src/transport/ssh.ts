/**
 * The ssh2 implementation of `Connection`: one client per host for the whole run,
 * host keys verified against known_hosts, agent and identity-file auth, keepalives,
 * and an optional jump host (connected first, the target reached through a
 * `direct-tcpip` channel on it; a jump with its own jump recurses).
 */
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { Client as ClientType, ConnectConfig } from 'ssh2';
import { ConnectionError, HostKeyError } from '../config/errors.js';
import { planAuth } from './auth.js';
import { connectFailure } from './connect-errors.js';
import type { Connection, ExecOptions, ExecResult, SshTarget } from './connection.js';
import { hostLabel, prepareHostKeyCheck, type NewHostKey } from './host-key.js';
import { runExec } from './remote-exec.js';

const { Client } = ssh2;

export interface ConnectSshOptions {
  /** Called when accept-new recorded a host key (the target's or the jump host's). */
  onNewHostKey?: (info: NewHostKey) => void;
  /** ssh2's debug lines, for `--verbose` troubleshooting. */
  debug?: (message: string) => void;
}

export async function connectSsh(target: SshTarget, options: ConnectSshOptions = {}): Promise<Connection> {
  let jump: SshConnection | undefined;
  let sock: Duplex | undefined;
  let label = hostLabel(target);
  if (target.jump) {
    jump = (await connectSsh(target.jump, options)) as SshConnection;
    label += ` via ${hostLabel(target.jump)}`;
    try {
      sock = await jump.forwardOut(target.address, target.port);
    } catch (err) {
      await jump.close();
      throw new ConnectionError(`cannot connect to ${label}: ${(err as Error).message}`, undefined, { cause: err });
    }
  }
  try {
    const client = await openClient(target, label, sock, options);
    return new SshConnection(target, hostLabel(target), client, jump);
  } catch (err) {
    await jump?.close();
    throw err;
  }
}

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
    readyTimeout: target.connectTimeoutMs,
    keepaliveInterval: target.keepaliveIntervalMs,
    keepaliveCountMax: 3,
  };
  if (sock) config.sock = sock;
  if (options.debug) config.debug = options.debug;

  const client = new Client();
  return new Promise<ClientType>((resolve, reject) => {
    let settled = false;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
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
    client.once('ready', () => {
      settled = true;
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

class SshConnection implements Connection {
  readonly hostName: string;
  private lost = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly target: SshTarget,
    private readonly label: string,
    private readonly client: ClientType,
    private readonly jump: SshConnection | undefined,
  ) {
    this.hostName = target.name;
    const markLost = (): void => {
      this.lost = true;
    };
    // An 'error' without a listener would crash the process (keepalive timeouts, resets);
    // the next exec reports the loss instead.
    client.on('error', markLost);
    client.on('end', markLost);
    client.on('close', markLost);
  }

  exec(script: string, options?: ExecOptions): Promise<ExecResult> {
    if (this.closing) return Promise.reject(new Error(`exec on ${this.label} after close()`));
    return runExec(
      { client: this.client, user: this.target.user, label: this.label, isLost: () => this.lost },
      script,
      options,
    );
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
