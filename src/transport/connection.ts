/**
 * The narrow interface the engine sees. One Connection per host per run; every probe and
 * apply is one `exec` of a POSIX sh script fed on stdin, so secrets and payloads never
 * reach a process's argv.
 */
export interface ExecOptions {
  /** Run the script as root through `sudo -n` (or with a password on stdin, see SshOptions). */
  sudo?: boolean;
  /** Abort: the remote process gets SIGTERM (when the server supports signals) and the channel closes. */
  signal?: AbortSignal;
  /** Called with every stdout chunk as it arrives (progress parsing). */
  onStdout?: (chunk: string) => void;
  /**
   * Raw bytes streamed after the script, in order, readable by the script on fd 3
   * (`head -c SIZE <&3`): large and binary files travel as they are, not as base64 text
   * inside the script, and are never copied per host on the controller.
   */
  payloads?: Buffer[];
}

export interface ExecResult {
  /** null when the process died from a signal or the connection was lost. */
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** True when the SSH connection dropped before the process exited. */
  connectionLost: boolean;
}

export interface Connection {
  readonly hostName: string;
  /**
   * Runs `script` with /bin/sh on the host, the script itself on stdin.
   * Never throws for a non-zero exit; rejects only for local misuse.
   */
  exec(script: string, options?: ExecOptions): Promise<ExecResult>;
  /**
   * exec, with the script built by `build` only once the host has started the session
   * (and built again for a retry): while a host waits for its session, nothing holds the
   * script's text. An apply of 500 hosts at once otherwise keeps 500 scripts alive for as
   * long as sshd takes to open the sessions (docs/benchmark.md, "Memory at 500 hosts").
   * Optional: the engine falls back to exec(build()).
   */
  execDeferred?(build: () => string, options?: ExecOptions): Promise<ExecResult>;
  /** Whether `payloads` can be sent now (not through a pseudo-terminal, which has no EOF). */
  acceptsPayloads?(): boolean;
  close(): Promise<void>;
}

/** Everything needed to open one SSH connection, already merged from inventory and defaults. */
export interface SshTarget {
  /** Inventory name of the host, used in messages. */
  name: string;
  address: string;
  port: number;
  user: string;
  /** Private key files to try, in order. */
  identityFiles: string[];
  /** Use $SSH_AUTH_SOCK when set. */
  useAgent: boolean;
  /** known_hosts files to verify against (first one is where accept-new records keys). */
  knownHostsFiles: string[];
  hostKeyPolicy: 'strict' | 'accept-new';
  /** Reaching the host and the key exchange (OpenSSH's ConnectTimeout). */
  connectTimeoutMs: number;
  /** Authentication, once the key exchange is done; default 60 s (connect-phases.ts). */
  authTimeoutMs?: number;
  /** 0 disables keepalives. */
  keepaliveIntervalMs: number;
  /** Unanswered keepalives before the connection counts as lost (ServerAliveCountMax); default 3. */
  keepaliveCountMax?: number;
  /** Agent socket to use instead of $SSH_AUTH_SOCK (ssh_config IdentityAgent). */
  agentSocket?: string;
  /**
   * sudo password, sent as the first line of stdin to `sudo -S` (never argv). Without it
   * sudo runs with `-n` and a host that asks for a password is a clear error.
   */
  sudoPassword?: string;
  /** Run sudo scripts with a pseudo-terminal (`requiretty` hosts); detected when unset. */
  pty?: boolean;
  /**
   * When this host is a jump host: how many tunnels may be opening (channel open plus the
   * next hop's handshake) at once over its one shared connection; default 8.
   */
  maxJumpChannels?: number;
  /** Optional jump host, connected first; the target is reached through it. */
  jump?: SshTarget;
  /** Password auth (bootstrap's initial credentials): tried after keys; never logged, never in argv. */
  password?: string;
  /**
   * `SHA256:...`: refuse any other host key, whatever known_hosts says. Checked in the
   * host key verifier, which ssh2 runs during key exchange, before any credential is sent.
   */
  expectFingerprint?: string;
}
