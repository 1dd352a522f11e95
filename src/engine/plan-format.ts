/**
 * The saved plan file (docs/plan-format.md): JSON, `format: provision-plan`, `version: 1`.
 * It holds digests and names, never a secret value: changes without their contents,
 * SHA-256 digests of payloads and of every step's desired state, and the names of the
 * secrets a host's steps use.
 */
import { z } from 'zod';

export const PLAN_FORMAT = 'provision-plan';
export const PLAN_VERSION = 1;

const hex = z.string().regex(/^[0-9a-f]{64}$/);

export const plannedChangeSchema = z.strictObject({
  step: z.number().int().nonnegative(),
  name: z.string(),
  id: z.string(),
  kind: z.string(),
  action: z.string(),
  reason: z.string(),
  /** SHA-256 of the content the change installs (files, templates), else null. */
  payload_sha256: hex.nullable(),
});

export const hostPlanSchema = z.strictObject({
  host: z.string(),
  /** SHA-256 over the fact digests below: one value to compare at a glance. */
  fingerprint: hex,
  /** Fact kind -> SHA-256 of that section of the probe output. */
  facts: z.record(z.string(), hex),
  /** Every step's desired state, as a digest (re-rendered and compared by `apply --plan`). */
  steps: z.array(z.strictObject({ index: z.number().int().nonnegative(), name: z.string(), digest: hex })),
  changes: z.array(plannedChangeSchema),
  pending_handlers: z.array(z.string()),
  /** Names of the inventory secrets whose values the host's steps use. */
  secrets: z.array(z.string()),
});

export const planFileSchema = z.strictObject({
  format: z.literal(PLAN_FORMAT),
  version: z.literal(PLAN_VERSION),
  created: z.string(),
  inventory: z.string(),
  limit: z.string().nullable(),
  hosts: z.array(hostPlanSchema),
});

export type PlanFile = z.infer<typeof planFileSchema>;
export type HostPlan = z.infer<typeof hostPlanSchema>;
export type PlannedChange = z.infer<typeof plannedChangeSchema>;

/** Human form of a plan (`provision show`). */
export function planText(plan: PlanFile): string {
  const out = [`plan (format ${plan.format} v${plan.version}) of ${plan.inventory}${plan.limit ? ` --limit ${plan.limit}` : ''}, made ${plan.created}`];
  for (const h of plan.hosts) {
    out.push('', `${h.host}: ${h.changes.length} change${h.changes.length === 1 ? '' : 's'}, fingerprint ${h.fingerprint.slice(0, 16)}`);
    for (const c of h.changes) out.push(`  ${c.action} ${c.id} (${c.reason})${c.payload_sha256 ? ` sha256 ${c.payload_sha256.slice(0, 16)}` : ''}`);
    if (h.pending_handlers.length) out.push(`  pending handlers: ${h.pending_handlers.join(', ')}`);
    if (h.secrets.length) out.push(`  depends on secrets: ${h.secrets.join(', ')} (values not stored)`);
  }
  return out.join('\n');
}
