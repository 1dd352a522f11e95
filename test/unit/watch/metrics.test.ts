/** /metrics in Prometheus text format: per-host gauges, hosts by status, escaped labels. */
import { describe, expect, it } from 'vitest';
import { labelValue, renderMetrics } from '../../../src/watch/metrics.js';
import type { HostView } from '../../../src/watch/types.js';

const views: HostView[] = [
  { host: 'lb-1', status: 'in-sync', connected: true, history: [], last: { host: 'lb-1', status: 'in-sync', checkedAt: '2026-01-01T00:00:00.000Z', durationMs: 120, execs: 1, steps: [], pendingHandlers: [] } },
  {
    host: 'lb-"2"',
    status: 'drift',
    connected: true,
    history: [],
    last: { host: 'lb-"2"', status: 'drift', checkedAt: '2026-01-01T00:00:01.000Z', durationMs: 250, execs: 2, pendingHandlers: [], steps: [{ index: 0, name: 'x', where: 'site.yaml:3', id: 'file /x', action: 'update', reason: 'content differs', diff: '' }] },
  },
  { host: 'lb-3', status: 'unreachable', connected: false, history: [], last: { host: 'lb-3', status: 'unreachable', checkedAt: '2026-01-01T00:00:02.000Z', durationMs: 0, execs: 0, steps: [], pendingHandlers: [], error: 'refused' } },
  { host: 'lb-4', status: 'pending', connected: false, history: [] },
];

describe('renderMetrics', () => {
  const text = renderMetrics(views, { startedAt: '2026-01-01T00:00:00.000Z', durationMs: 1500, count: 7 });

  it('has per-host gauges for checked hosts only', () => {
    expect(text).toContain('provision_watch_host_in_sync{host="lb-1"} 1');
    expect(text).toContain('provision_watch_host_in_sync{host="lb-\\"2\\""} 0');
    expect(text).toContain('provision_watch_host_drifted_steps{host="lb-\\"2\\""} 1');
    expect(text).toContain('provision_watch_host_reachable{host="lb-3"} 0');
    expect(text).toContain('provision_watch_host_last_check_timestamp_seconds{host="lb-1"} 1767225600');
    expect(text).toContain('provision_watch_host_check_duration_seconds{host="lb-1"} 0.12');
    expect(text).not.toContain('provision_watch_host_in_sync{host="lb-4"}');
    expect(text).toContain('provision_watch_host_status{host="lb-4",status="pending"} 1');
  });

  it('counts hosts by status and cycles, with HELP and TYPE for every family', () => {
    expect(text).toContain('provision_watch_hosts{status="drift"} 1');
    expect(text).toContain('provision_watch_hosts{status="locked"} 0');
    expect(text).toContain('# TYPE provision_watch_cycles_total counter\nprovision_watch_cycles_total 7');
    expect(text).toContain('provision_watch_cycle_duration_seconds 1.5');
    const families = text.split('\n').filter((l) => l.startsWith('# TYPE')).length;
    expect(text.split('\n').filter((l) => l.startsWith('# HELP')).length).toBe(families);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('escapes label values', () => {
    expect(labelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });
});
