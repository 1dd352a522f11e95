/**
 * `provision report merge`: the JSON reports of N shard jobs (`--json FILE` of check or
 * apply) combined into one report, one summary and one exit code. Reports are validated
 * (a truncated or foreign file is an error naming it) and must be of one mode; a host
 * present in two reports is an error (two jobs ran it: the shards overlap).
 */
import { z } from 'zod';
import type { HostResult, HostStatus, Mode } from '../engine/types.js';

const STATUS = z.enum(['in-sync', 'drift', 'ok', 'changed', 'failed', 'unreachable', 'partial', 'interrupted']);

const reportSchema = z.object({
  mode: z.enum(['check', 'apply']),
  hosts: z.array(
    z.looseObject({
      host: z.string(),
      status: STATUS,
      error: z.string().nullable(),
      notes: z.array(z.string()).default([]),
      pending_handlers: z.array(z.string()).default([]),
      seconds: z.number(),
      execs: z.number(),
      steps: z.array(z.looseObject({ index: z.number(), name: z.string(), status: z.enum(['ok', 'changed', 'failed', 'skipped', 'pending']), error: z.string().nullable() })),
      handlers: z.array(z.looseObject({ name: z.string(), status: z.enum(['ok', 'changed', 'failed']) })),
    }),
  ),
});

export type JsonReport = z.infer<typeof reportSchema>;

export class MergeError extends Error {}

export function parseReport(file: string, text: string): JsonReport {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new MergeError(`${file}: not JSON (${(e as Error).message}); was the job cut short?`);
  }
  const r = reportSchema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new MergeError(`${file}: not a provision --json report (${issue.path.join('.') || 'top level'}: ${issue.message})`);
  }
  return r.data;
}

/** Pure: one report from many; throws MergeError on mixed modes or a host seen twice. */
export function mergeReports(reports: { file: string; report: JsonReport }[]): JsonReport {
  if (!reports.length) throw new MergeError('no reports to merge');
  const mode = reports[0]!.report.mode;
  const seen = new Map<string, string>();
  const hosts: JsonReport['hosts'] = [];
  for (const { file, report } of reports) {
    if (report.mode !== mode) throw new MergeError(`${file} is a ${report.mode} report, ${reports[0]!.file} a ${mode} report: merge reports of one command`);
    for (const h of report.hosts) {
      const other = seen.get(h.host);
      if (other) throw new MergeError(`host ${h.host} is in both ${other} and ${file}: the shards overlap (same --shard twice, or different N)`);
      seen.set(h.host, file);
      hosts.push(h);
    }
  }
  return { mode, hosts };
}

/** The summary table's view of a report host. */
export function asHostResults(report: JsonReport): HostResult[] {
  return report.hosts.map((h) => {
    const r: HostResult = {
      host: h.host,
      status: h.status as HostStatus,
      steps: h.steps.map((s) => ({ index: s.index, name: s.name, status: s.status, ...(s.error !== null ? { error: s.error } : {}) })),
      handlers: h.handlers.map((x) => ({ name: x.name, status: x.status })),
      durationMs: Math.round(h.seconds * 1000),
      execs: h.execs,
      notes: h.notes,
      pendingHandlers: h.pending_handlers,
    };
    if (h.error !== null) r.error = h.error;
    return r;
  });
}

/** The exit code `check`/`apply` would have given for these hosts: 1 failure, 2 drift (check), 0. */
export function exitCodeOf(mode: Mode, hosts: { status: string }[]): number {
  if (hosts.some((h) => ['failed', 'unreachable', 'partial', 'interrupted'].includes(h.status))) return 1;
  if (mode === 'check' && hosts.some((h) => h.status === 'drift')) return 2;
  return 0;
}
