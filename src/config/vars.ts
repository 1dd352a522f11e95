import type { SourcePos } from './errors.js';
import type { VarPositions } from './lazy-vars.js';

/**
 * Variable precedence, lowest to highest:
 *   playbook `vars:` (applied later by the engine) < inventory `vars` < group vars
 *   (parents before children, unrelated groups in file order) < host vars.
 * Secrets are vars too. Merging replaces whole top-level vars: a map defined at two levels
 * is NOT deep-merged, the higher level's value wins entirely (predictable; no surprise
 * keys left over from a lower level).
 *
 * Built-in vars, which the inventory may not define:
 *   host      = { name, address, groups }
 *   inventory = { hosts: { NAME: { address, groups, vars } }, groups: { GROUP: [hosts] } }
 */
export const BUILTIN_VARS = ['host', 'inventory'] as const;

export function mergeVars(...layers: (Record<string, unknown> | undefined)[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const layer of layers) if (layer) for (const [k, v] of Object.entries(layer)) out[k] = v;
  return out;
}

/** Where each var's winning value sits: the last layer defining a name wins, as in mergeVars. */
export function mergeVarPositions(
  layers: { path: (string | number)[]; vars: Record<string, unknown> | undefined }[],
  posOf: (path: (string | number)[]) => SourcePos,
): VarPositions {
  const out: VarPositions = {};
  for (const { path, vars } of layers) for (const k of Object.keys(vars ?? {})) out[k] = (p) => posOf([...path, k, ...p]);
  return out;
}
