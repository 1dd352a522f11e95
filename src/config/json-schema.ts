/**
 * JSON Schemas for editors (yaml-language-server: `# yaml-language-server: $schema=...`),
 * generated from the same zod schemas the loaders use, so they cannot drift apart.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { inventorySchema } from './inventory-schema.js';
import { playbookSchema, type StepKinds } from './playbook-schema.js';

function toJson(schema: z.ZodType, title: string): Record<string, unknown> {
  // `io: 'input'`: describe what users write, before defaults and transforms.
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...json, title };
}

export function inventoryJsonSchema(): Record<string, unknown> {
  return toJson(inventorySchema, 'provision inventory');
}

export function playbookJsonSchema(kinds: StepKinds): Record<string, unknown> {
  return toJson(playbookSchema(kinds), 'provision playbook');
}

/** Writes `inventory.schema.json` and `playbook.schema.json` into `dir`; returns the paths. */
export async function writeSchemas(dir: string, kinds: StepKinds): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: [string, Record<string, unknown>][] = [
    ['inventory.schema.json', inventoryJsonSchema()],
    ['playbook.schema.json', playbookJsonSchema(kinds)],
  ];
  const written: string[] = [];
  for (const [name, schema] of files) {
    const file = path.join(dir, name);
    await writeFile(file, `${JSON.stringify(schema, null, 2)}\n`);
    written.push(file);
  }
  return written;
}
