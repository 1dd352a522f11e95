/** `--json FILE`: the plan or the result per host and per step, secrets masked, written atomically. */
import { rename, writeFile } from 'node:fs/promises';
import type { HostResult, Mode } from '../engine/types.js';
import type { GateResult } from '../engine/health.js';
import type { Redactor } from './redact.js';

function gateJson(g: GateResult): unknown {
  return { name: g.name, from: g.from, passed: g.passed, attempts: g.attempts, seconds: g.durationMs / 1000, detail: g.detail };
}

export function jsonReport(results: HostResult[], mode: Mode, redactor: Redactor): unknown {
  return redactor.redactDeep({
    mode,
    hosts: results.map((r) => ({
      host: r.host,
      status: r.status,
      error: r.error ?? null,
      error_detail: r.detail ?? null,
      notes: r.notes ?? [],
      pending_handlers: r.pendingHandlers ?? [],
      seconds: r.durationMs / 1000,
      execs: r.execs,
      steps: r.steps.map((s) => ({
        index: s.index,
        name: s.name,
        status: s.status,
        error: s.error ?? null,
        reason: s.reason ?? null,
        change: s.change
          ? {
              id: s.change.id,
              kind: s.change.kind,
              action: s.change.action,
              reason: s.change.reason,
              attrs: s.change.attrs,
              content: s.change.content
                ? { path: s.change.content.path, before: s.change.content.before ?? null, after: s.change.content.after, binary: !!s.change.content.binary }
                : null,
            }
          : null,
      })),
      handlers: r.handlers,
      ...(r.gates ? { gates: r.gates.map(gateJson) } : {}),
      ...(r.restore ? { restore: { ...r.restore, gates: r.restore.gates.map(gateJson), seconds: r.restore.durationMs / 1000 } } : {}),
    })),
  });
}

export async function writeJsonReport(file: string, results: HostResult[], mode: Mode, redactor: Redactor): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(jsonReport(results, mode, redactor), null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, file);
}
