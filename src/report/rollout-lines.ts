/** The lines of an automatic restore: what came back, what ran, and, loudly, what did not. */
import { gateLine } from '../engine/health.js';
import type { RestoreReport } from '../engine/types.js';

export function restoreLines(host: string, r: RestoreReport): string[] {
  const out: string[] = [];
  const head = r.ok ? `${host}: restored` : `${host}: RESTORE FAILED`;
  out.push(`${head} (${(r.durationMs / 1000).toFixed(1)} s)${r.error ? `: ${r.error}` : ''}`);
  for (const p of r.restored) out.push(`${host}:   put back ${p}`);
  for (const p of r.removed) out.push(`${host}:   removed ${p} (this run had created it)`);
  for (const p of r.failed) out.push(`${host}:   NOT put back ${p}: this run's version is in place`);
  for (const h of r.handlers) out.push(`${host}:   handler ${h.name}: ${h.status === 'failed' ? `FAILED${h.error ? `: ${h.error.split('\n').slice(-1)[0]}` : ''}` : 'ran'}`);
  for (const g of r.gates) out.push(`${host}:   ${gateLine(g)}`);
  if (!r.ok) {
    const back = r.restored.length + r.removed.length;
    out.push(`${host}:   in place now: ${back ? `the previous version of ${back} path${back > 1 ? 's' : ''}` : "this run's files (nothing was put back)"}${r.failed.length ? `, this run's version of ${r.failed.length}` : ''}; check the host by hand`);
  }
  return out;
}
