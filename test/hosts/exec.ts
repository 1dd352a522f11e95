/**
 * Local command execution for the harness. Plain `child_process` with argv arrays (no
 * shell), so names and paths never need quoting. `run` throws a readable error on a
 * non-zero exit unless `allowFail` is set, in which case the caller inspects `exitCode`.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  stdin?: string;
  allowFail?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Kill the command (SIGKILL) after this many milliseconds; it then counts as failed. */
  timeoutMs?: number;
  /** Called with every complete output line (stdout and stderr), for progress logs. */
  onLine?: (line: string) => void;
}

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: RunResult,
  ) {
    const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-15).join('\n');
    super(`command failed (exit ${result.exitCode}): ${argv.join(' ')}\n${tail}`);
    this.name = 'CommandError';
  }
}

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
    });
    let stdout = '';
    let stderr = '';
    const lineBuffers = { out: '', err: '' };
    const feed = (which: 'out' | 'err', chunk: string): void => {
      if (!opts.onLine) return;
      const text = lineBuffers[which] + chunk;
      const lines = text.split('\n');
      lineBuffers[which] = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') opts.onLine(line);
    };
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      feed('out', c);
    });
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      feed('err', c);
    });
    const timer =
      opts.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const result: RunResult = { exitCode: code ?? (signal ? 128 : 1), stdout, stderr };
      if (signal) result.stderr += `\n(killed by ${signal})`;
      if (result.exitCode !== 0 && !opts.allowFail) reject(new CommandError([cmd, ...args], result));
      else resolve(result);
    });
    if (opts.stdin !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined); // the command may exit without reading stdin
      child.stdin.end(opts.stdin);
    }
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** True when a process with this pid exists (signal 0 probes without sending anything). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Starts a long-lived process in its own session (a terminal Ctrl-C reaches our handlers,
 * not it), stdout and stderr appended to `logPath`; resolves with its pid once spawned.
 */
export async function spawnDetached(cmd: string, args: readonly string[], logPath: string, env?: NodeJS.ProcessEnv): Promise<number> {
  const fd = openSync(logPath, 'a');
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], ...(env ? { env } : {}) });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolve(child.pid ?? -1));
    });
    child.unref();
    return pid;
  } finally {
    closeSync(fd);
  }
}
