/**
 * Saved plans: `provision plan INVENTORY -o FILE` (a check with diffs that also writes
 * the plan), `provision apply --plan FILE` (refuses the run when a step's desired state
 * changed, refuses a stale host, applies the others) and `provision show FILE`.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ProvisionError } from '../config/errors.js';
import type { Inventory } from '../config/inventory.js';
import { factDigests, inApplyGuard, sha256, staleFacts, stepDigest } from '../engine/plan-guard.js';
import { PLAN_FORMAT, PLAN_VERSION, planFileSchema, planText, type HostPlan, type PlanFile } from '../engine/plan-format.js';
import type { HostJob, HostResult, PlanGuard } from '../engine/types.js';
import { Redactor } from '../report/redact.js';
import { printError } from './errors.js';
import type { BuiltJobs } from '../compile/jobs.js';
import { run, type RunCommandOptions } from './run-command.js';

/** Names of the secrets whose values appear in a host's steps (rendered contents included). */
function secretsUsed(inv: Inventory, job: HostJob, hostVars: Record<string, unknown>): string[] {
  const text = JSON.stringify(job.steps.map((s) => s.spec), (_k, v: unknown) =>
    v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? Buffer.from((v as { data: number[] }).data).toString('utf8') : v,
  );
  return Object.entries(hostVars)
    .filter(([, v]) => typeof v === 'string' && v !== '' && inv.secretValues.includes(v) && text.includes(v))
    .map(([k]) => k)
    .sort();
}

function payloadSha(spec: unknown): string | null {
  const content = (spec as { content?: unknown } | null)?.content;
  return Buffer.isBuffer(content) ? sha256(content) : null;
}

function hostPlan(job: HostJob, r: HostResult, facts: Record<string, string>, secrets: string[]): HostPlan {
  return {
    host: job.name,
    fingerprint: sha256(JSON.stringify(Object.entries(facts).sort())),
    facts,
    steps: job.steps.map((s) => ({ index: s.index, name: s.name, digest: stepDigest(s.spec) })),
    changes: r.steps.filter((s) => s.change).map((s) => ({
      step: s.index, name: s.name, id: s.change!.id, kind: s.change!.kind, action: s.change!.action, reason: s.change!.reason, payload_sha256: payloadSha(s.change!.spec),
    })),
    pending_handlers: r.pendingHandlers ?? [],
    secrets,
  };
}

export async function planCommand(inventory: string, opts: RunCommandOptions & { output: string }): Promise<number> {
  const probes = new Map<string, Record<string, string>>();
  const guard: PlanGuard = {
    onProbe: (job, stdout, nonce) => {
      // A broken probe output fails the host in the per-host run itself.
      try {
        probes.set(job.name, factDigests(job, true, stdout, nonce));
      } catch {
        /* reported by the run */
      }
      return null;
    },
  };
  const res = await run(inventory, { ...opts, diff: true }, 'check', { prepare: () => guard });
  if (!res.results || !res.built || !res.inv) return res.code;
  const bad = res.results.filter((r) => r.status !== 'in-sync' && r.status !== 'drift');
  if (bad.length) {
    process.stderr.write(`provision: no plan written: ${bad.map((r) => `${r.host} ${r.status}`).join(', ')}\n`);
    return 1;
  }
  const inv = res.inv;
  const varsOf = new Map(res.built.hosts.map((h) => [h.name, h.vars]));
  const plan: PlanFile = {
    format: PLAN_FORMAT,
    version: PLAN_VERSION,
    created: new Date().toISOString(),
    inventory: path.resolve(inventory),
    limit: opts.limit ?? null,
    hosts: res.built.jobs.map((job) => hostPlan(job, res.results!.find((r) => r.host === job.name)!, probes.get(job.name) ?? {}, secretsUsed(inv, job, varsOf.get(job.name) ?? {}))),
  };
  const tmp = `${opts.output}.${process.pid}.tmp`;
  // Digests and names only by construction; masked anyway, in case a name or a reason holds a secret.
  await writeFile(tmp, JSON.stringify(new Redactor(inv.secretValues).redactDeep(plan), null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, opts.output);
  process.stdout.write(`plan written to ${opts.output}: ${plan.hosts.reduce((n, h) => n + h.changes.length, 0)} changes on ${plan.hosts.length} hosts\n`);
  return 0;
}

export async function readPlan(file: string): Promise<PlanFile> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new ProvisionError('E_PLAN', `${file}: not a readable plan file: ${(e as Error).message}`);
  }
  const v = (raw as { version?: unknown } | null)?.version;
  if ((raw as { format?: unknown } | null)?.format === PLAN_FORMAT && v !== PLAN_VERSION) {
    throw new ProvisionError('E_PLAN', `${file}: plan format version ${String(v)}; this provision reads version ${PLAN_VERSION} (make the plan again)`);
  }
  const parsed = planFileSchema.safeParse(raw);
  if (!parsed.success) throw new ProvisionError('E_PLAN', `${file}: not a provision plan (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  return parsed.data;
}

/** Refuses the whole run when a planned host is gone or a step's desired state changed. */
function checkPayloads(plan: PlanFile, built: BuiltJobs): void {
  const problems: string[] = [];
  const jobs = new Map(built.jobs.map((j) => [j.name, j]));
  for (const h of plan.hosts) {
    const job = jobs.get(h.host);
    if (!job) {
      problems.push(`${h.host}: in the plan, not selected now`);
      continue;
    }
    const now = job.steps.map((s) => ({ index: s.index, name: s.name, digest: stepDigest(s.spec) }));
    if (now.length !== h.steps.length) problems.push(`${h.host}: ${h.steps.length} steps planned, ${now.length} now`);
    for (const p of h.steps) {
      const n = now.find((s) => s.index === p.index);
      if (!n || n.digest !== p.digest) problems.push(`${h.host}: step "${p.name}" differs from the plan`);
    }
  }
  for (const j of built.jobs) if (!plan.hosts.some((h) => h.host === j.name)) problems.push(`${j.name}: selected now, not in the plan`);
  if (problems.length) {
    const shown = problems.slice(0, 10).join('\n  ');
    throw new ProvisionError('E_PLAN', `refusing the whole run: the code or the vars changed since the plan was made (make a new plan):\n  ${shown}${problems.length > 10 ? `\n  ... and ${problems.length - 10} more` : ''}`);
  }
}

export async function applyPlanCommand(inventory: string, opts: RunCommandOptions & { plan: string }): Promise<number> {
  let plan: PlanFile;
  try {
    plan = await readPlan(opts.plan);
  } catch (e) {
    return printError(e);
  }
  const byHost = new Map(plan.hosts.map((h) => [h.host, h]));
  const guard: PlanGuard = {
    onProbe: (job, stdout, nonce) => {
      const planned = byHost.get(job.name)!;
      let now: Record<string, string>;
      try {
        now = factDigests(job, Boolean(opts.diff), stdout, nonce);
      } catch {
        return null; // a broken probe output fails the host in the per-host run itself
      }
      const stale = staleFacts(planned.facts, now);
      if (!stale.length) return null;
      const named = stale.slice(0, 5).join(', ') + (stale.length > 5 ? ` and ${stale.length - 5} more` : '');
      return `refused: stale plan: the host changed since the plan was made (${named}); make a new plan`;
    },
    inApply: (job, nonce, stdout) => inApplyGuard(job, Boolean(opts.diff), nonce, stdout),
  };
  const limit = opts.limit ?? plan.limit ?? undefined;
  const res = await run(inventory, { ...opts, ...(limit ? { limit } : {}) }, 'apply', {
    prepare: (_inv, built) => {
      checkPayloads(plan, built);
      return guard;
    },
  });
  return res.code;
}

export async function showCommand(file: string): Promise<number> {
  try {
    process.stdout.write(planText(await readPlan(file)) + '\n');
    return 0;
  } catch (e) {
    return printError(e);
  }
}
