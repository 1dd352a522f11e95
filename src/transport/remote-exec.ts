/**
 * One `exec` round trip on an open ssh2 client: `/bin/sh -s` (through `sudo -n` when
 * asked and not already root) with the script on stdin, so neither the script nor the
 * payloads it carries ever appear in a process's argv on the host.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Client, ClientChannel } from 'ssh2';
import { ConnectionError } from '../config/errors.js';
import type { ExecOptions, ExecResult } from './connection.js';

export interface ExecContext {
  client: Client;
  user: string;
  /** `lb-1 (10.0.0.11:22)`, for messages. */
  label: string;
  /** True once the SSH connection is gone (end, close, error). */
  isLost(): boolean;
}

/** The remote command line: the script itself always travels on stdin. */
export function remoteCommand(user: string, sudo: boolean | undefined): string {
  return sudo && user !== 'root' ? 'sudo -n -- /bin/sh -s' : '/bin/sh -s';
}

/**
 * `sudo -n` exits 1 with "sudo: a password is required" when the user has no NOPASSWD
 * rule. Say so in words the user can act on, keeping sudo's own line below.
 */
export function explainSudoFailure(stderr: string, exitCode: number | null, user: string, label: string): string {
  if (exitCode !== 1 || !/sudo: (a password is required|a terminal is required)/.test(stderr)) return stderr;
  return (
    `sudo on ${label} needs a password for ${user}: sudo -n cannot prompt ` +
    `(grant ${user} NOPASSWD in sudoers, or connect as root)\n${stderr}`
  );
}

/** How long a channel closed without exit status waits to learn whether the connection died. */
const LOSS_SETTLE_MS = 250;

/** How long an aborted exec waits for the channel to close before settling anyway. */
const ABORT_GRACE_MS = 3000;

/**
 * Sends a "signal" channel request (RFC 4254 6.9; OpenSSH >= 7.9 delivers it to the
 * session's process group). ssh2's `channel.signal()` silently does nothing once our
 * side of the channel is ended, which is always the case here (the script was sent and
 * stdin closed), so go through the protocol object it would have used.
 */
function sendSignal(channel: ClientChannel, name: string): void {
  const internal = channel as unknown as {
    type?: string;
    outgoing?: { id?: number; state?: string };
    _client?: { _protocol?: { signal(id: number, name: string): void } };
  };
  const id = internal.outgoing?.id;
  const proto = internal._client?._protocol;
  const state = internal.outgoing?.state;
  if ((state !== 'open' && state !== 'eof') || id === undefined || !proto) return;
  try {
    proto.signal(id, name);
  } catch {
    /* connection already gone: nothing to signal */
  }
}

function lostResult(started: number, stdout = '', stderr = ''): ExecResult {
  return { exitCode: null, signal: null, stdout, stderr, durationMs: Date.now() - started, connectionLost: true };
}

export function runExec(ctx: ExecContext, script: string, options: ExecOptions = {}): Promise<ExecResult> {
  const started = Date.now();
  options.signal?.throwIfAborted();
  if (ctx.isLost()) return Promise.resolve(lostResult(started));
  const sudo = Boolean(options.sudo) && ctx.user !== 'root';
  const command = remoteCommand(ctx.user, options.sudo);

  return new Promise<ExecResult>((resolve, reject) => {
    ctx.client.exec(command, (err, channel) => {
      if (err) {
        // The channel could not even be opened: a dead connection is a lost result,
        // anything else (MaxSessions, a server refusing sessions) a session failure.
        if (ctx.isLost()) return resolve(lostResult(started));
        return reject(new ConnectionError(`cannot open an SSH session on ${ctx.label}: ${err.message}`, undefined, { cause: err }));
      }
      collect(channel, ctx, sudo, script, options, started, resolve);
    });
  });
}

function collect(
  channel: ClientChannel,
  ctx: ExecContext,
  sudo: boolean,
  script: string,
  options: ExecOptions,
  started: number,
  resolve: (r: ExecResult) => void,
): void {
  const out = new StringDecoder('utf8');
  const errDec = new StringDecoder('utf8');
  let stdout = '';
  let stderr = '';
  let exitCode: number | null = null;
  let exitSignal: string | null = null;
  let exited = false;
  let done = false;

  let abortTimer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    sendSignal(channel, 'TERM');
    channel.close();
    // sshd answers our close only once the process is gone; if the server ignored the
    // signal, do not wait for a command that may run for hours.
    abortTimer = setTimeout(() => finish(), ABORT_GRACE_MS);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  channel.on('data', (chunk: Buffer) => {
    const text = out.write(chunk);
    stdout += text;
    if (text && options.onStdout) options.onStdout(text);
  });
  channel.stderr.on('data', (chunk: Buffer) => {
    stderr += errDec.write(chunk);
  });
  channel.on('exit', (code: number | null, signalName?: string) => {
    exited = true;
    exitCode = typeof code === 'number' ? code : null;
    exitSignal = signalName ?? null;
  });
  // Writes to a channel whose connection died surface here; the close below reports it.
  channel.on('error', () => {});
  const finish = (): void => {
    if (done) return;
    done = true;
    clearTimeout(abortTimer);
    options.signal?.removeEventListener('abort', onAbort);
    const tail = out.end();
    stdout += tail;
    if (tail && options.onStdout) options.onStdout(tail);
    stderr += errDec.end();
    if (sudo) stderr = explainSudoFailure(stderr, exitCode, ctx.user, ctx.label);
    resolve({
      exitCode,
      signal: exitSignal,
      stdout,
      stderr,
      durationMs: Date.now() - started,
      connectionLost: !exited && ctx.isLost(),
    });
  };
  channel.on('close', () => {
    // A close without an exit status usually means the connection is going down; ssh2
    // may report that a moment after the channel closes, so give it that moment.
    if (exited || ctx.isLost()) finish();
    else setTimeout(finish, LOSS_SETTLE_MS);
  });

  // end() queues the whole script and respects the channel window (backpressure).
  channel.end(script);
}
