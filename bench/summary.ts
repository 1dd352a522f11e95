/**
 * From the runs to the table: one row per case and N, medians of the successful runs of
 * each tool, the peers' time as a multiple of provision's, and the machine's load seen
 * while the row's runs ran (a busy machine is part of the figure, not noise to hide).
 */
import { median } from './measure.js';
import type { Case, Tool } from './tools.js';

export interface Sample {
  tool: Tool | 'floor';
  case: Case;
  n: number;
  run: number;
  wallS: number;
  ok: boolean;
  error?: string;
  /** SSH connections accepted by sshd ("Accepted publickey"). */
  connections: number;
  /** Sessions opened ("Starting session:": exec commands and subsystems such as sftp). */
  sessions: number;
  maxRssMB: number;
  treePssMB: number;
  controllerCpuS: number;
  /** CPU used under sshd during the run: sshd itself and every remote process. */
  remoteCpuS: number;
  /** /proc/loadavg (1, 5, 15 min) when the run started. */
  loadAvg: string;
}

export interface ToolStats {
  runs: number;
  wallS: number;
  /** This tool's time / provision's (null for provision itself). */
  vsProvision: number | null;
  sessionsPerHost: number;
  connectionsPerHost: number;
  /** Largest single controller process over the runs, MB. */
  peakMB: number;
  /** Largest summed PSS of the controller's process tree over the runs, MB. */
  treePeakMB: number;
  cpuS: number;
  remoteCpuS: number;
}

export interface Row {
  case: Case;
  n: number;
  tools: Partial<Record<Tool, ToolStats>>;
  floorS: number | null;
  /** provision check / floor. */
  vsFloor: number | null;
  /** Range of the 1-minute load average at the start of the row's runs, e.g. "2.1-6.3". */
  load: string;
}

export const CASE_NAMES: Record<Case, string> = { first: 'first apply', second: 'no-change apply', check: 'check' };

export const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

function statsOf(xs: Sample[], n: number, provisionS: number | null): ToolStats | undefined {
  if (!xs.length) return undefined;
  const med = (f: (s: Sample) => number) => round(median(xs.map(f)));
  const wallS = med((s) => s.wallS);
  return {
    runs: xs.length,
    wallS,
    vsProvision: provisionS ? round(wallS / provisionS, 1) : null,
    sessionsPerHost: med((s) => s.sessions / n),
    connectionsPerHost: med((s) => s.connections / n),
    peakMB: Math.max(...xs.map((s) => s.maxRssMB)),
    treePeakMB: Math.max(...xs.map((s) => s.treePssMB)),
    cpuS: med((s) => s.controllerCpuS),
    remoteCpuS: med((s) => s.remoteCpuS),
  };
}

export function loadRange(samples: Sample[]): string {
  const ones = samples.map((s) => Number(s.loadAvg.split(' ')[0])).filter((x) => Number.isFinite(x));
  if (!ones.length) return '?';
  const lo = Math.min(...ones).toFixed(1);
  const hi = Math.max(...ones).toFixed(1);
  return lo === hi ? lo : `${lo}-${hi}`;
}

export function summarize(samples: Sample[], ns: number[], cases: Case[], tools: Tool[]): Row[] {
  const rows: Row[] = [];
  for (const n of ns) {
    for (const c of cases) {
      const all = samples.filter((s) => s.n === n && s.case === c);
      if (!all.length) continue;
      const ok = (tool: Tool | 'floor') => all.filter((s) => s.tool === tool && s.ok);
      const provision = statsOf(ok('provision'), n, null);
      const row: Row = { case: c, n, tools: {}, floorS: null, vsFloor: null, load: loadRange(all) };
      for (const t of tools) {
        const st = t === 'provision' ? provision : statsOf(ok(t), n, provision?.wallS ?? null);
        if (st) row.tools[t] = st;
      }
      const floor = ok('floor');
      if (c === 'check' && floor.length) {
        row.floorS = round(median(floor.map((s) => s.wallS)));
        row.vsFloor = provision ? round(provision.wallS / row.floorS, 2) : null;
      }
      rows.push(row);
    }
  }
  return rows;
}

/** The printed table: a column group per tool, then the floor and the load. */
export function table(rows: Row[], tools: Tool[]): string {
  const f = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? '-' : x.toFixed(d));
  const head = ['case', 'N'];
  for (const t of tools) head.push(`${t} s`, ...(t === 'provision' ? [] : ['x']));
  const short = tools.map((t) => t.slice(0, 3)).join('|');
  head.push('floor s', 'prov/floor', `sessions/host ${short}`, `peak MB ${short}`, `cpu s ${short}`, 'load');
  const body = rows.map((r) => {
    const cells = [CASE_NAMES[r.case], String(r.n)];
    for (const t of tools) {
      const st = r.tools[t];
      cells.push(f(st?.wallS, t === 'provision' ? 3 : 2));
      if (t !== 'provision') cells.push(st?.vsProvision ? `${st.vsProvision.toFixed(1)}x` : '-');
    }
    cells.push(f(r.floorS, 3), f(r.vsFloor));
    cells.push(tools.map((t) => f(r.tools[t]?.sessionsPerHost, 1)).join(' | '));
    cells.push(tools.map((t) => f(r.tools[t]?.peakMB, 0)).join(' | '));
    cells.push(tools.map((t) => f(r.tools[t]?.cpuS)).join(' | '));
    cells.push(r.load);
    return cells;
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
