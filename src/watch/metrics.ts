/**
 * `/metrics`: the fleet in Prometheus' text exposition format (version 0.0.4). Per host:
 * in sync, drifted steps, last check time, check duration, reachable, status; per
 * watcher: hosts by status, cycles and the last cycle's duration. Pure.
 */
import type { CycleSummary } from './watcher.js';
import type { HostView, WatchStatus } from './types.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const STATUSES: WatchStatus[] = ['pending', 'in-sync', 'drift', 'unreachable', 'locked', 'error'];

/** A label value as the format wants it: backslash, double quote and newline escaped. */
export function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function family(out: string[], name: string, help: string, type: 'gauge' | 'counter', samples: [labels: string, value: number][]): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [labels, value] of samples) out.push(`${name}${labels} ${Number.isFinite(value) ? value : 'NaN'}`);
}

export function renderMetrics(hosts: HostView[], cycle: CycleSummary | undefined): string {
  const out: string[] = [];
  const h = (v: HostView) => `{host="${labelValue(v.host)}"}`;
  const checked = hosts.filter((v) => v.last);
  family(out, 'provision_watch_host_in_sync', '1 when the last check of the host found no drift, else 0.', 'gauge',
    checked.map((v) => [h(v), v.status === 'in-sync' ? 1 : 0]));
  family(out, 'provision_watch_host_drifted_steps', 'Steps that differ from the playbook at the last check.', 'gauge',
    checked.map((v) => [h(v), v.last!.steps.length]));
  family(out, 'provision_watch_host_reachable', '1 when the last check reached the host over SSH.', 'gauge',
    checked.map((v) => [h(v), v.status === 'unreachable' ? 0 : 1]));
  family(out, 'provision_watch_host_last_check_timestamp_seconds', 'Unix time the last check of the host started.', 'gauge',
    checked.map((v) => [h(v), Date.parse(v.last!.checkedAt) / 1000]));
  family(out, 'provision_watch_host_check_duration_seconds', 'How long the last check of the host took.', 'gauge',
    checked.map((v) => [h(v), v.last!.durationMs / 1000]));
  family(out, 'provision_watch_host_status', '1 for the status the host is in (pending, in-sync, drift, unreachable, locked, error).', 'gauge',
    hosts.flatMap((v) => STATUSES.map((s): [string, number] => [`{host="${labelValue(v.host)}",status="${s}"}`, v.status === s ? 1 : 0])));
  family(out, 'provision_watch_hosts', 'Hosts by status.', 'gauge',
    STATUSES.map((s) => [`{status="${s}"}`, hosts.filter((v) => v.status === s).length]));
  family(out, 'provision_watch_cycles_total', 'Completed watch cycles since the watcher started.', 'counter', [['', cycle?.count ?? 0]]);
  if (cycle) family(out, 'provision_watch_cycle_duration_seconds', 'How long the last cycle over every host took.', 'gauge', [['', cycle.durationMs / 1000]]);
  return out.join('\n') + '\n';
}
