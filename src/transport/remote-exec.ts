/**
 * One `exec` round trip on an open ssh2 client: `/bin/sh -s` (through `sudo -n` when
 * asked and not already root) with the script on stdin, so neither the script nor the
 * payloads it carries ever appear in a process's argv on the host.
 *
 * sudo with a password (SshTarget.sudoPassword): a small wrapper (its text in argv, no
 * secret in it) reads the password line and the script's byte length from stdin, checks
 * whether sudo needs a password at all (`sudo -n -k`), then checks the password with
 * exactly ONE line on sudo's stdin (a wrong one fails at once instead of sudo eating
 * script lines as further attempts), and finally runs `sudo -S -k -p ''` with the
 * password line followed by the script. The password only ever sits in the wrapper
 * shell's memory and in pipes (`printf` is a builtin).
 *
 * `requiretty` hosts: sudo refuses before running anything ("you must have a tty"), so
 * the exec is retried once with a raw pseudo-terminal (no echo, no line editing, no CR
 * translation); scripts are framed by length there since a tty has no EOF. With a pty
 * the remote stderr arrives merged into stdout.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Client, ClientChannel } from 'ssh2';
import { ConnectionError } from '../config/errors.js';
import { shellQuote } from '../config/shell-quote.js';
import type { ExecOptions, ExecResult } from './connection.js';
import { writeStdin } from './stdin-writer.js';

export interface ExecContext {
  client: Client;
  user: string;
  /** `lb-1 (10.0.0.11:22)`, for messages. */
  label: string;
  /** True once the SSH connection is gone (end, close, error). */
  isLost(): boolean;
  /** Sent on stdin to `sudo -S`; unset = `sudo -n`. */
  sudoPassword?: string;
  /** Run sudo execs with a pseudo-terminal (requiretty). */
  pty?: boolean;
  /** Told when sudo asked for a tty, so later execs use one from the start. */
  onPtyRequired?: () => void;
}

/** A script, or what builds it once the session is open (Connection.execDeferred). */
export type ScriptSource = string | (() => string);

/** Written by the wrapper when the password check failed (then nothing ran). */
const REJECTED_MARKER = 'provision-sudo: password rejected';

/**
 * The wrapper run as the login user. stdin: `[password\n]length\nscript`. Exit 1 with
 * sudo's own message when sudo refuses; otherwise the script's status.
 */
export function sudoWrapper(withPassword: boolean): string {
  const lines = withPassword
    ? passwordSudo(['IFS= read -r n || exit 125'], 'head -c "$n" | sudo -n -- /bin/sh -s', `{ printf '%s\\n' "$p"; head -c "$n"; } | sudo -S -k -p '' -- /bin/sh -s`)
    : ['IFS= read -r n || exit 125', 'head -c "$n" | sudo -n -- /bin/sh -s'];
  return `/bin/sh -c ${shellQuote(lines.join('\n'))}`;
}

/**
 * The password dance both wrappers share: read the password line (then `frame`, what
 * else precedes the script), run `nopasswd` when sudo needs no password (no prompt would
 * consume the password line), otherwise check the password with exactly one line and run
 * `withPassword`, which feeds sudo -S the password line followed by the script.
 */
function passwordSudo(frame: string[], nopasswd: string, withPassword: string): string[] {
  return [
    'IFS= read -r p || exit 125',
    ...frame,
    `if e=$(sudo -n -k -- /bin/sh -c : 2>&1); then ${nopasswd}; exit $?; fi`,
    'case $e in *"password is required"*) ;; *) printf \'%s\\n\' "$e" >&2; exit 1;; esac',
    `printf '%s\\n' "$p" | sudo -S -k -p '' -- /bin/sh -c : || { echo ${shellQuote(REJECTED_MARKER)} >&2; exit 1; }`,
    withPassword,
  ];
}

/**
 * The shell that runs a script followed by payloads on one stdin: it reads the script's
 * byte length, hands exactly that many bytes to `sh -s` (GNU head -c never reads past
 * them), and leaves the rest of stdin on fd 3 for the script to read the payloads.
 */
export const FRAMED_SHELL = `/bin/sh -c ${shellQuote('IFS= read -r n || exit 125; exec 3<&0; head -c "$n" | /bin/sh -s')}`;

/** The wrapper with a sudo password for a framed script: sudo -S reads the password line byte by byte; the frame and payloads follow it. */
function sudoFramedWrapper(): string {
  const lines = passwordSudo([], `sudo -n -- ${FRAMED_SHELL}`, `{ printf '%s\\n' "$p"; cat; } | sudo -S -k -p '' -- ${FRAMED_SHELL}`);
  return `/bin/sh -c ${shellQuote(lines.join('\n'))}`;
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
  if (exitCode !== 1) return stderr;
  if (stderr.includes(REJECTED_MARKER)) {
    const sudoLines = stderr.split('\n').filter((l) => l !== REJECTED_MARKER).join('\n');
    return `sudo password rejected for ${user} on ${label}\n${sudoLines}`;
  }
  if (!/sudo: (a password is required|a terminal is required)/.test(stderr)) return stderr;
  return (
    `sudo on ${label} needs a password for ${user}: sudo -n cannot prompt ` +
    `(grant ${user} NOPASSWD in sudoers, set sudo_password_env, or connect as root)\n${stderr}`
  );
}

/** sudo refused for lack of a tty: nothing ran, a retry with a pty is safe. */
export function sudoWantsTty(r: Pick<ExecResult, 'exitCode' | 'stdout' | 'stderr'>): boolean {
  return r.exitCode === 1 && r.stdout === '' && /^sudo: sorry, you must have a tty to run sudo/m.test(r.stderr);
}

/** Terminal modes for a raw pty: bytes pass unchanged both ways, nothing echoed. */
const RAW_PTY_MODES = { ECHO: 0, ECHOE: 0, ECHOK: 0, ECHONL: 0, ICANON: 0, ISIG: 0, IEXTEN: 0, ICRNL: 0, INLCR: 0, IGNCR: 0, IXON: 0, OPOST: 0, ONLCR: 0 } as const;

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

export async function runExec(ctx: ExecContext, script: ScriptSource, options: ExecOptions = {}): Promise<ExecResult> {
  const sudo = Boolean(options.sudo) && ctx.user !== 'root';
  const first = await runOnce(ctx, script, options, sudo, Boolean(ctx.pty));
  if (!sudo || ctx.pty || !sudoWantsTty(first)) return first;
  ctx.onPtyRequired?.();
  return runOnce(ctx, script, options, sudo, true);
}

function runOnce(ctx: ExecContext, script: ScriptSource, options: ExecOptions, sudo: boolean, pty: boolean): Promise<ExecResult> {
  const started = Date.now();
  options.signal?.throwIfAborted();
  if (ctx.isLost()) return Promise.resolve(lostResult(started));
  let command = remoteCommand(ctx.user, sudo);
  // Before the script on stdin: the password line for `sudo -S`, its byte length for a framed shell or sudo wrapper.
  const stdin: Stdin = { source: script, password: sudo ? ctx.sudoPassword : undefined, framed: false };
  const payloads = options.payloads ?? [];
  if (payloads.length > 0) {
    if (pty) return Promise.reject(new Error(`payloads cannot be sent through a pseudo-terminal (${ctx.label})`));
    command = !sudo ? FRAMED_SHELL : ctx.sudoPassword !== undefined ? sudoFramedWrapper() : `sudo -n -- ${FRAMED_SHELL}`;
    stdin.framed = true;
  } else if (sudo && (ctx.sudoPassword !== undefined || pty)) {
    command = sudoWrapper(ctx.sudoPassword !== undefined);
    stdin.framed = true;
  }
  const execOpts = pty ? { pty: { term: 'dumb', rows: 24, cols: 200, modes: RAW_PTY_MODES } } : {};

  return new Promise<ExecResult>((resolve, reject) => {
    ctx.client.exec(command, execOpts, (err, channel) => {
      if (err) {
        // The channel could not even be opened: a dead connection is a lost result,
        // anything else (MaxSessions, a server refusing sessions) a session failure.
        if (ctx.isLost()) return resolve(lostResult(started));
        return reject(new ConnectionError(`cannot open an SSH session on ${ctx.label}: ${err.message}`, undefined, { cause: err }));
      }
      // A deferred script is built here; a builder that throws fails this exec, with
      // nothing sent (the remote shell sees the channel close before any stdin).
      let parts: Buffer[];
      try {
        parts = stdinParts(stdin, payloads);
      } catch (e) {
        channel.close();
        return reject(e as Error);
      }
      collect(channel, ctx, sudo, parts, options, started, resolve);
    });
  });
}

function collect(
  channel: ClientChannel,
  ctx: ExecContext,
  sudo: boolean,
  stdin: Buffer[],
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
    // With a pty, sudo's refusal (and our marker) arrives on stdout: same message.
    if (sudo && exitCode === 1 && stdout.includes(REJECTED_MARKER)) {
      stderr = stdout + stderr;
      stdout = '';
    }
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

  void writeStdin(channel, stdin);
}

/**
 * What an exec writes on stdin. ssh2 keeps the exec callback (and so this box) after
 * calling it: the source is taken out of it when the stdin is written, so nothing of the
 * exec holds the script while the host runs it.
 */
interface Stdin {
  source: ScriptSource | null;
  /** Sent first, on its own line, for `sudo -S`. */
  password: string | undefined;
  /** The script's byte length comes first (a framed shell or a sudo wrapper reads it). */
  framed: boolean;
}

/** The script built now (a deferred source) and encoded; the head before it; then the payloads. */
function stdinParts(stdin: Stdin, payloads: Buffer[]): Buffer[] {
  const source = stdin.source!;
  stdin.source = null;
  const body = Buffer.from(typeof source === 'function' ? source() : source, 'utf8');
  const head = `${stdin.password !== undefined ? `${stdin.password}\n` : ''}${stdin.framed ? `${body.length}\n` : ''}`;
  return [Buffer.from(head, 'utf8'), body, ...payloads];
}
