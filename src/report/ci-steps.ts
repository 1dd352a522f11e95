/**
 * What CI reports (JUnit, GitHub annotations) need per host: each step's outcome with its
 * playbook position and its diff, joined from the result and the host's resolved steps.
 * Secrets are masked here, once, for both formats.
 */
import type { HostResult, Mode, ResolvedStep } from '../engine/types.js';
import { renderChange } from './diff-render.js';
import type { Redactor } from './redact.js';

export interface CiStep {
  name: string;
  /** `FILE:LINE` of the step in its playbook ('' when unknown). */
  where: string;
  /** passed: in sync / ok / applied; failure: drift (check) or failed step; skipped: not run. */
  outcome: 'passed' | 'failure' | 'skipped';
  /** One line: the drift's reason or the step's error. */
  message: string;
  /** The diff (drift) or the step's output (failure). */
  detail: string;
}

export interface CiHost {
  host: string;
  status: HostResult['status'];
  seconds: number;
  /** A host-level error (unreachable, probe failed, lock held...), already masked. */
  error?: string;
  steps: CiStep[];
}

function stepOf(r: HostResult['steps'][number], where: string, mode: Mode, redactor: Redactor): CiStep {
  const base = { name: redactor.redact(r.name), where };
  if (r.status === 'failed') return { ...base, outcome: 'failure', message: redactor.redact((r.error ?? 'failed').split('\n')[0]!), detail: redactor.redact(r.error ?? '') };
  if (r.status === 'skipped') return { ...base, outcome: 'skipped', message: 'not run', detail: '' };
  if (r.status === 'pending' && mode === 'check' && r.change) {
    return { ...base, outcome: 'failure', message: redactor.redact(`drift: ${r.change.id}: ${r.change.reason}`), detail: renderChange(r.change, redactor, false) };
  }
  if (r.status === 'pending') return { ...base, outcome: 'skipped', message: 'not applied', detail: '' };
  const changed = r.status === 'changed' && r.change ? renderChange(r.change, redactor, false) : '';
  return { ...base, outcome: 'passed', message: r.status, detail: changed };
}

export function ciHosts(results: HostResult[], stepsByHost: Map<string, ResolvedStep[]>, mode: Mode, redactor: Redactor): CiHost[] {
  return results.map((r) => {
    const where = new Map((stepsByHost.get(r.host) ?? []).map((s) => [s.index, s.where]));
    const steps = r.steps.map((s) => stepOf(s, where.get(s.index) ?? '', mode, redactor));
    for (const n of r.pendingHandlers ?? []) {
      steps.push({ name: `handler ${n}`, where: '', outcome: 'failure', message: redactor.redact(`drift: handler ${n} was notified by an earlier apply and never completed`), detail: '' });
    }
    for (const hd of r.handlers) {
      const failed = hd.status === 'failed';
      steps.push({ name: `handler ${hd.name}`, where: '', outcome: failed ? 'failure' : 'passed', message: failed ? redactor.redact((hd.error ?? 'failed').split('\n')[0]!) : hd.status, detail: failed ? redactor.redact(hd.error ?? '') : '' });
    }
    const h: CiHost = { host: r.host, status: r.status, seconds: r.durationMs / 1000, steps };
    if (r.error) h.error = redactor.redact(r.error);
    return h;
  });
}
