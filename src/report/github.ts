/**
 * `--format github`: GitHub Actions workflow commands after the normal output, so a drift
 * or failure shows up on the step's line of the playbook in the run's summary and in pull
 * requests. Drift is a warning; a failed step, an unreachable or failed host an error.
 * Paths are made relative to the working directory (the checkout, in Actions).
 */
import path from 'node:path';
import type { CiHost } from './ci-steps.js';

/** Message text as workflow commands want it. */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Property values (file, title) additionally escape `:` and `,`. */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

function location(where: string, cwd: string): string {
  const m = /^(.*):(\d+)$/.exec(where);
  if (!m) return '';
  const file = path.isAbsolute(m[1]!) ? path.relative(cwd, m[1]!) : m[1]!;
  return `file=${escapeProperty(file.split(path.sep).join('/'))},line=${m[2]},`;
}

export function githubAnnotations(hosts: CiHost[], cwd = process.cwd()): string {
  const out: string[] = [];
  for (const h of hosts) {
    for (const s of h.steps) {
      if (s.outcome !== 'failure') continue;
      const level = s.message.startsWith('drift') ? 'warning' : 'error';
      const body = s.detail && s.detail.trim() !== s.message ? `${s.message}\n${s.detail}` : s.message;
      out.push(`::${level} ${location(s.where, cwd)}title=${escapeProperty(`${h.host}: ${s.name}`)}::${escapeData(body)}`);
    }
    if (h.error && !h.steps.some((s) => s.outcome === 'failure')) {
      out.push(`::error title=${escapeProperty(`${h.host}: ${h.status}`)}::${escapeData(h.error)}`);
    }
  }
  return out.length ? out.join('\n') + '\n' : '';
}
