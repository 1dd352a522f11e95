/**
 * A real OpenSSH sshd on loopback for transport tests: its own config, host keys
 * (ed25519 + rsa), authorized client key and port, in a temp dir removed by stop().
 *
 * Counting: sshd runs with LogLevel VERBOSE and `-e`, its stderr goes to `logPath`.
 * OpenSSH 9.2 logs, at VERBOSE:
 *   "Accepted publickey for root from ..."       once per authenticated connection
 *   "Starting session: command for root from ..." once per `exec` channel request
 * which is what the round-trip budget counts.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SshTarget } from '../../src/transport/connection.js';
import { ensureControllerPackages } from '../hosts/packages.js';
import { WORK } from './budget.js';

const SSHD = '/usr/sbin/sshd';

export interface HostKeyInfo {
  type: string;
  base64: string;
  fingerprint: string;
  /** Path of the private key file (the public one is `${path}.pub`). */
  path: string;
}

export interface SshdFixture {
  host: string;
  port: number;
  /** Private key authorized for the current user (root). */
  clientKeyPath: string;
  /** `[host]:port` lines for both host keys. */
  knownHostsPath: string;
  /** Fingerprint of the ed25519 host key, as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
  hostKeys: { ed25519: HostKeyInfo; rsa: HostKeyInfo };
  dir: string;
  logPath: string;
  /** PID of the listening sshd (connection children descend from it). */
  pid: number;
  log(): string;
  countExecs(): number;
  countSessions(): number;
  /** SIGKILL the listener and every sshd it forked: a host that vanished. */
  kill(): void;
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** Loopback address to listen on (default 127.0.0.1); 127.0.0.2 etc. work on Linux. */
  listenAddress?: string;
  /** Extra sshd_config lines (appended; `Match` blocks go last). */
  extraConfig?: string;
  logLevel?: 'VERBOSE' | 'DEBUG1';
}

/** openssh-server is on the declared list (test/hosts/packages.ts) that the global setup installs. */
function ensureSshd(): void {
  if (!existsSync(SSHD)) ensureControllerPackages();
}

function keygen(path: string, type: 'ed25519' | 'rsa'): HostKeyInfo {
  const args = ['-q', '-t', type, '-N', '', '-C', '', '-f', path];
  if (type === 'rsa') args.unshift('-b', '2048');
  execFileSync('ssh-keygen', args);
  const [keyType, base64] = readFileSync(`${path}.pub`, 'utf8').trim().split(/\s+/);
  const fp = 'SHA256:' + createHash('sha256').update(Buffer.from(base64!, 'base64')).digest('base64').replace(/=+$/, '');
  return { type: keyType!, base64: base64!, fingerprint: fp, path };
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Whether something accepts TCP connections on host:port now. */
export function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** PIDs of `root` and all its descendants, from /proc. */
export function processTree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // comm may hold spaces and parens: ppid is the 2nd field after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(name), ppid);
    } catch {
      /* exited meanwhile */
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parent) if (ppid === tree[i]) tree.push(pid);
  }
  return tree;
}

/** Listeners still running, killed when the test process exits whatever happened. */
const running = new Set<() => void>();
process.once('exit', () => {
  for (const kill of running) kill();
});

export async function startSshd(options: SshdOptions = {}): Promise<SshdFixture> {
  ensureSshd();
  // Privilege separation directory; sshd refuses to start without it.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const host = options.listenAddress ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'provision-sshd-'));
  const ed25519 = keygen(join(dir, 'ssh_host_ed25519_key'), 'ed25519');
  const rsa = keygen(join(dir, 'ssh_host_rsa_key'), 'rsa');
  const clientKeyPath = join(dir, 'client_ed25519');
  keygen(clientKeyPath, 'ed25519');
  const authorizedKeys = join(dir, 'authorized_keys');
  // Readable by every user (sshd reads it as the user logging in): the same client key
  // logs in as root or as any test user. Public keys only; private files stay 0600.
  writeFileSync(authorizedKeys, readFileSync(`${clientKeyPath}.pub`), { mode: 0o644 });
  chmodSync(dir, 0o711);
  const port = await freePort(host);
  const knownHostsPath = join(dir, 'known_hosts');
  writeFileSync(
    knownHostsPath,
    `[${host}]:${port} ${ed25519.type} ${ed25519.base64}\n[${host}]:${port} ${rsa.type} ${rsa.base64}\n`,
    { mode: 0o600 },
  );
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      `ListenAddress ${host}`,
      `HostKey ${ed25519.path}`,
      `HostKey ${rsa.path}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'StrictModes no',
      `LogLevel ${options.logLevel ?? 'VERBOSE'}`,
      'MaxStartups 200:30:500',
      'MaxSessions 200',
      'Subsystem sftp internal-sftp',
      options.extraConfig ?? '',
      '',
    ].join('\n'),
  );
  const logPath = join(dir, 'sshd.log');
  const logFd = openSync(logPath, 'a');
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const readLog = (): string => {
    try {
      return readFileSync(logPath, 'utf8');
    } catch {
      return '';
    }
  };

  const deadline = Date.now() + 10_000;
  while (!(await accepts(host, port))) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      const log = readLog();
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`sshd did not start on ${host}:${port}:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = child.pid!;
  const count = (re: RegExp): number => readLog().split('\n').filter((l) => re.test(l)).length;
  // Parents first: the connection's sshd must die before the user's shell does, or it
  // would still report the shell's exit status instead of vanishing.
  const killAll = (): void => {
    for (const p of processTree(pid)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };

  running.add(killAll);
  return {
    host,
    port,
    clientKeyPath,
    knownHostsPath,
    hostKeyFingerprint: ed25519.fingerprint,
    hostKeys: { ed25519, rsa },
    dir,
    logPath,
    pid,
    log: readLog,
    countExecs: () => count(/Starting session: command (on \S+ )?for /),
    countSessions: () => count(/Accepted publickey for /),
    kill: killAll,
    async stop() {
      running.delete(killAll);
      if (!exited) {
        const gone = new Promise<void>((r) => child.once('exit', () => r()));
        killAll();
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An SshTarget for the fixture: root, its client key only, its known_hosts, strict. */
export function targetFor(fx: SshdFixture, overrides: Partial<SshTarget> = {}): SshTarget {
  return {
    name: `sshd-${fx.port}`,
    address: fx.host,
    port: fx.port,
    user: 'root',
    identityFiles: [fx.clientKeyPath],
    useAgent: false,
    knownHostsFiles: [fx.knownHostsPath],
    hostKeyPolicy: 'strict',
    // A loopback sshd on a busy 2-core machine: the budget of one connection, not a speed bound.
    connectTimeoutMs: WORK.sshConnect,
    keepaliveIntervalMs: 0,
    ...overrides,
  };
}
