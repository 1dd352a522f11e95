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
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  /** Optional jump host, connected first; the target is reached through it. */
  jump?: SshTarget;
}
