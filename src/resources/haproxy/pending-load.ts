/**
 * "Reload pending" / "restart pending": a file HAProxy reads was changed after the
 * running process read it. The configuration (haproxy.cfg, the conf.d directory, whose
 * own mtime moves when a file in it is renamed into place) is read at every reload, by
 * the current worker; the unit's drop-in and /etc/default/haproxy only at a restart, by
 * the master. Times are whole seconds from `show proc` uptimes, so a file counts as newer
 * only when it is more than SLACK seconds newer (a reload in the same second as the
 * write is not reported). Pure.
 */
import type { AttrDiff } from '../types.js';
import type { ProcInfo } from './show-proc.js';

export const SLACK_S = 2;

export interface PendingLoad {
  notes: string[];
  attrs: AttrDiff[];
  reload: boolean;
  restart: boolean;
}

const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

function newer(files: string[], mtimes: Map<string, number | null>, since: number): [string, number][] {
  return files.flatMap((f) => {
    const m = mtimes.get(f);
    return typeof m === 'number' && m > since + SLACK_S ? [[f, m] as [string, number]] : [];
  });
}

/**
 * The record the `haproxy_servers` step writes when it applied a file's change through the
 * admin socket instead of a reload: `MTIME PATH` per line. A reload file whose mtime is the
 * recorded one is what runs, although HAProxy never re-read it.
 */
export function parseLiveRecord(text: string | null): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const m = /^(\d+) (\/.*)$/.exec(line);
    if (m) out.set(m[2]!, Number(m[1]));
  }
  return out;
}

export function pendingLoad(
  proc: ProcInfo | null,
  mtimes: Map<string, number | null>,
  files: { reload: string[]; restart: string[] },
  live: Map<string, number> = new Map(),
): PendingLoad {
  const out: PendingLoad = { notes: [], attrs: [], reload: false, restart: false };
  if (!proc) return out;
  for (const [f, m] of newer(files.restart, mtimes, proc.masterStart)) {
    out.restart = true;
    out.notes.push(`restart pending: ${f} changed at ${iso(m)}, HAProxy started at ${iso(proc.masterStart)}`);
    out.attrs.push({ field: `loaded ${f}`, before: iso(proc.masterStart), after: iso(m) });
  }
  if (proc.workerStart === null) return out;
  for (const [f, m] of newer(files.reload, mtimes, proc.workerStart)) {
    if (live.get(f) === m) continue;
    out.reload = true;
    out.notes.push(`reload pending: ${f} changed at ${iso(m)}, HAProxy loaded its configuration at ${iso(proc.workerStart)}`);
    out.attrs.push({ field: `loaded ${f}`, before: iso(proc.workerStart), after: iso(m) });
  }
  return out;
}
