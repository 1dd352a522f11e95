/**
 * The master CLI's `show proc` (HAProxy 2.6, `-S /run/haproxy-master.sock`): the master
 * with its reload count, then the workers; the current worker has 0 reloads, older ones
 * still finishing connections have more. Uptimes look like `0d00h00m24s`. The master's
 * uptime counts from the service start (a reload re-executes it but keeps the count).
 */
export interface ProcInfo {
  /** Host clock when `show proc` answered, seconds since the epoch. */
  now: number;
  /** When the master (the service) started, seconds since the epoch. */
  masterStart: number;
  /** When the current worker (the last successful load) started. */
  workerStart: number | null;
  workerPids: number[];
}

export function parseUptime(text: string): number | null {
  const m = /^(\d+)d(\d+)h(\d+)m(\d+)s$/.exec(text);
  if (!m) return null;
  return ((Number(m[1]) * 24 + Number(m[2])) * 60 + Number(m[3])) * 60 + Number(m[4]);
}

/** `NOW\n` (date +%s) followed by `show proc` output; null when either is missing. */
export function parseShowProc(text: string): ProcInfo | null {
  const [first, ...rest] = text.split('\n');
  const now = Number(first);
  if (!first || !Number.isFinite(now)) return null;
  let masterStart: number | null = null;
  let workerStart: number | null = null;
  const workerPids: number[] = [];
  for (const line of rest) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || !/^\d+$/.test(f[0]!)) continue;
    if (f[1] === 'master') {
      const up = parseUptime(f[f.length - 2]!);
      if (up !== null) masterStart = now - up;
    } else if (f[1] === 'worker') {
      workerPids.push(Number(f[0]));
      const up = parseUptime(f[3]!);
      if (f[2] === '0' && up !== null) workerStart = now - up;
    }
  }
  return masterStart === null ? null : { now, masterStart, workerStart, workerPids };
}
