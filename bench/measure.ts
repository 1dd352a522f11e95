/**
 * One timed command: wall time, exit code, output, the controller's CPU and peak memory
 * (GNU time: max RSS of the largest process, user + sys of the whole waited tree), and a
 * sampled peak of the process tree's summed PSS (Ansible forks one worker per host).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { processTree } from '../test/support/sshd.js';

export interface Measured {
  wallMs: number;
  code: number | null;
  stdout: string;
  stderr: string;
  /** Largest single process of the run (GNU time %M), KiB. */
  maxRssKb: number;
  /** Peak of the summed PSS over the whole process tree (sampled), KiB. */
  treePssKb: number;
  /** Controller CPU seconds (user + sys, the command and its waited children). */
  cpuS: number;
}

export const TIME = '/usr/bin/time';

function pssKb(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export interface MeasureOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Sampling period of the tree's memory; 0 disables sampling. */
  sampleMs?: number;
  timeoutMs?: number;
}

export function measure(cmd: string, args: string[], opts: MeasureOptions = {}): Promise<Measured> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-time-'));
  const timeFile = path.join(dir, 'time');
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(TIME, ['-f', '%M %U %S', '-o', timeFile, cmd, ...args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    let treePssKb = 0;
    const sampleMs = opts.sampleMs ?? 200;
    const sampler =
      sampleMs > 0
        ? setInterval(() => {
            if (child.pid === undefined) return;
            // The tree below `time` itself (time's own few hundred KiB are not the tool's).
            const pids = processTree(child.pid).slice(1);
            const sum = pids.reduce((acc, p) => acc + pssKb(p), 0);
            if (sum > treePssKb) treePssKb = sum;
          }, sampleMs)
        : undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30 * 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      clearTimeout(timer);
      if (sampler) clearInterval(sampler);
      let maxRssKb = 0;
      let cpuS = 0;
      try {
        // time prints "Command exited with non-zero status N" first when it fails.
        const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
        const [rss, user, sys] = last.split(' ').map(Number);
        maxRssKb = rss ?? 0;
        cpuS = (user ?? 0) + (sys ?? 0);
      } catch {
        /* killed before time wrote */
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ wallMs, code, stdout, stderr, maxRssKb, treePssKb: Math.max(treePssKb, 0), cpuS });
    });
  });
}

/** CPU seconds reaped by a process from its children (cutime + cstime), from /proc. */
export function reapedCpuS(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After comm: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
    return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return 0;
  }
}

export function median(values: number[]): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
}
