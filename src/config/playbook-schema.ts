/**
 * The playbook file format. Step types (`apt`, `file`, `service`...) and their bodies
 * belong to src/resources/; this module only knows the frame around them, and builds the
 * full schema (for JSON Schema export) from the kinds it is given.
 *
 *   vars:            defaults for this playbook's vars (lowest precedence); several files
 *                    merge in load order, the later file winning per top-level name
 *   steps:           ordered list; each item is either
 *     - include: NAME|PATH   another playbook (name in the same dir, or a relative path),
 *       when: EXPR           flattened in place; `when` applies to all its steps
 *     - a step:
 *       name: TEXT           optional display name
 *       KIND: BODY           exactly one step-type key (`apt: {...}`)
 *       notify: NAME|[NAMES] handlers to run at the end if the step changed something
 *       when: EXPR|BOOL      nunjucks expression (no braces) or a YAML boolean
 *       loop: "{{ EXPR }}"|[...]  repeat the step for every item
 *       loop_var: NAME       name of the item var; default `item`
 *   handlers:        NAME: {KIND: BODY}, run once after all steps when notified
 *   validate_sets:   NAME: {command, paths}: files validated together before any is
 *                    installed; `command` uses `{KEY}` placeholders for `paths` entries
 *   health:          gates of every host using this playbook, run after its handlers in a
 *                    rolling apply and by `provision health` (see rollout-schema.ts)
 */
import { z } from 'zod';
import { healthSchema } from './rollout-schema.js';

/** What the loader needs to know about step types (implemented by the resources registry). */
export interface StepKinds {
  get(kind: string): { schema: z.ZodType } | undefined;
  kinds(): string[];
}

export const STEP_META_KEYS = ['name', 'notify', 'when', 'loop', 'loop_var'] as const;
export const INCLUDE_KEYS = ['include', 'when'] as const;

const str = (what = 'a string') => z.string({ error: `expected ${what}` });

export const stepMetaShape = {
  name: str('a step name (string)').optional(),
  notify: z.union([str(), z.array(str())], { error: 'expected a handler name or a list of handler names' }).optional(),
  when: z.union([z.string(), z.boolean()], { error: 'expected a condition (an expression string or a boolean)' }).optional(),
  loop: z.union([z.string(), z.array(z.unknown())], { error: 'expected a list or a "{{ expression }}" string' }).optional(),
  loop_var: z.string({ error: 'expected a var name' }).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected a var name (letters, digits, _)' }).optional(),
};

export const includeSchema = z.strictObject({
  include: str('a playbook name or path'),
  when: stepMetaShape.when,
});

export const validateSetSchema = z.strictObject({
  command: str('a command line').min(1),
  paths: z.record(z.string(), str('a path'), { error: 'expected a map of placeholder -> path' }),
});

export const playbookFrameSchema = z.strictObject({
  vars: z.record(z.string(), z.unknown(), { error: 'expected a map' }).optional(),
  steps: z.array(z.unknown(), { error: 'expected a list of steps' }).optional(),
  handlers: z.record(z.string(), z.unknown(), { error: 'expected a map of handlers' }).optional(),
  validate_sets: z.record(z.string(), validateSetSchema, { error: 'expected a map of validation sets' }).optional(),
  health: healthSchema.optional(),
});

/** The whole playbook schema, steps included, for editors (JSON Schema). */
export function playbookSchema(kinds: StepKinds): z.ZodType {
  const stepVariants = kinds.kinds().map((k) => z.strictObject({ ...stepMetaShape, [k]: kinds.get(k)!.schema }));
  const handlerVariants = kinds.kinds().map((k) => z.strictObject({ [k]: kinds.get(k)!.schema }));
  const anyOf = <T extends z.ZodType>(items: T[]): z.ZodType => (items.length === 1 ? items[0]! : items.length === 0 ? z.never() : z.union(items as [T, T, ...T[]]));
  return z.strictObject({
    vars: playbookFrameSchema.shape.vars,
    steps: z.array(anyOf([includeSchema, ...stepVariants])).optional(),
    handlers: z.record(z.string(), anyOf(handlerVariants)).optional(),
    validate_sets: playbookFrameSchema.shape.validate_sets,
    health: playbookFrameSchema.shape.health,
  });
}
