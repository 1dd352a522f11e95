/** A small StepKinds for loader tests: three step types with strict zod bodies. */
import { z } from 'zod';
import type { StepKinds } from '../../../src/config/playbook-schema.js';

const schemas = new Map<string, { schema: z.ZodType }>([
  ['apt', { schema: z.strictObject({ packages: z.array(z.string()), update: z.boolean().optional() }) }],
  [
    'file',
    {
      schema: z.strictObject({
        path: z.string(),
        content: z.string().optional(),
        template: z.string().optional(),
        mode: z.string().optional(),
        validate_set: z.string().optional(),
        owner: z.strictObject({ user: z.string(), group: z.string().optional() }).optional(),
      }),
    },
  ],
  ['service', { schema: z.strictObject({ name: z.string(), state: z.enum(['started', 'stopped', 'reloaded', 'restarted']) }) }],
]);

export const fakeKinds: StepKinds = { get: (k) => schemas.get(k), kinds: () => [...schemas.keys()] };
export const fileSchema = schemas.get('file')!.schema;
