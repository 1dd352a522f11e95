/** The end-of-run table: host, status, ok, changed, failed, seconds, and the one-line reason. */
import pc from 'picocolors';
import type { HostResult, Mode } from '../engine/types.js';

export function countSteps(r: HostResult): { ok: number; changed: number; failed: number } {
  const n = { ok: 0, changed: 0, failed: 0 };
  for (const s of r.steps) {
    if (s.status === 'ok') n.ok++;
    else if (s.status === 'changed' || s.status === 'pending') n.changed++;
    else if (s.status === 'failed') n.failed++;
  }
  return n;
}

export function summaryTable(results: HostResult[], mode: Mode, color: boolean): string {
  const c = color ? pc : pc.createColors(false);
  const head = ['HOST', 'STATUS', 'OK', mode === 'check' ? 'DRIFT' : 'CHANGED', 'FAILED', 'SECONDS'];
  const rows = results.map((r) => {
    const n = countSteps(r);
    return [r.host, r.status, String(n.ok), String(n.changed), String(n.failed), (r.durationMs / 1000).toFixed(1)];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  const paint = (status: string, text: string) =>
    status === 'failed' || status === 'unreachable' || status === 'partial' || status === 'restore failed'
      ? c.red(text)
      : status === 'changed' || status === 'drift' || status === 'interrupted' || status === 'restored' || status === 'not started'
        ? c.yellow(text)
        : c.green(text);
  const out = [c.bold(fmt(head)), ...rows.map((r) => paint(r[1]!, fmt(r)))];
  for (const r of results) if (r.error) out.push(c.red(`${r.host}: ${r.error}`));
  for (const r of results) for (const n of r.notes ?? []) out.push(c.yellow(`${r.host}: note: ${n}`));
  const unsafe = results.filter((r) => r.status === 'restore failed').map((r) => r.host);
  if (unsafe.length) out.push(c.red(c.bold(`RESTORE FAILED on ${unsafe.join(', ')}: see above for what is in place now`)));
  const partial = results.filter((r) => r.status === 'partial').map((r) => r.host);
  if (partial.length) out.push(c.red(`partial (interrupted between steps; re-run to converge): ${partial.join(', ')}`));
  return out.join('\n');
}
