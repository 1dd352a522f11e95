/**
 * OpenSSH client side of the lab: the per-run client key, per-host host keys, the
 * known_hosts file, and `ssh` with strict host key checking, so every command the
 * harness runs also proves the recorded host key is the real one.
 */
import { readFile } from 'node:fs/promises';
import { run, type RunResult } from './exec.js';

export interface SshFiles {
  keyPath: string;
  knownHostsPath: string;
}

export interface SshOptions {
  stdin?: string;
  allowFail?: boolean;
  timeoutMs?: number;
}

/** ed25519 key pair at `path` (private, 0600) and `path.pub`. */
export async function generateKey(path: string, comment: string): Promise<void> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
}

/** `ssh-ed25519 AAAA...` from a .pub file, without the comment. */
export async function readPublicKey(pubPath: string): Promise<string> {
  const [type, key] = (await readFile(pubPath, 'utf8')).trim().split(/\s+/);
  if (!type || !key) throw new Error(`malformed public key in ${pubPath}`);
  return `${type} ${key}`;
}

/** Plain (unhashed) known_hosts lines: `ADDR ssh-ed25519 AAAA...`. */
export function knownHostsText(entries: ReadonlyArray<{ address: string; publicKey: string }>): string {
  return entries.map((e) => `${e.address} ${e.publicKey}\n`).join('');
}

export function sshArgs(files: SshFiles, address: string, command: string, connectTimeoutS = 5): string[] {
  return [
    '-F', '/dev/null', // no user or system config can change what we test
    '-i', files.keyPath,
    '-o', 'IdentitiesOnly=yes',
    '-o', `UserKnownHostsFile=${files.knownHostsPath}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'UpdateHostKeys=no',
    '-o', 'BatchMode=yes',
    '-o', `ConnectTimeout=${connectTimeoutS}`,
    '-o', 'LogLevel=ERROR',
    `root@${address}`,
    command,
  ];
}

export function sshRun(files: SshFiles, address: string, command: string, opts: SshOptions = {}): Promise<RunResult> {
  return run('ssh', sshArgs(files, address, command), {
    ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
    ...(opts.allowFail !== undefined ? { allowFail: opts.allowFail } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  });
}
