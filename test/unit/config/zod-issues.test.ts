import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { inventoryJsonSchema, playbookJsonSchema, writeSchemas } from '../../../src/config/json-schema.js';
import { loadPlaybooks } from '../../../src/config/playbooks.js';
import { validKeysAt } from '../../../src/config/zod-shape.js';
import { zodIssuesToConfigErrors } from '../../../src/config/zod-issues.js';
import { fakeKinds, fileSchema } from './fake-kinds.js';
import { FIXTURES, shown } from './helpers.js';

describe('zodIssuesToConfigErrors on a step body (the engine path)', () => {
  it('converts body issues with positions from StepDef.posOf', async () => {
    const pb = await loadPlaybooks([path.join(FIXTURES, 'broken-playbooks/body-values.yaml')], fakeKinds);
    const step = pb.steps[0]!;
    const r = fileSchema.safeParse(step.body, { reportInput: true });
    expect(r.success).toBe(false);
    const errors = zodIssuesToConfigErrors(r.error!.issues, step.posOf, (p) => validKeysAt(fileSchema, p), step.rawAt);
    const f = shown('broken-playbooks/body-values.yaml');
    expect(errors.map((e) => e.shortMessage)).toEqual([
      `${f}:3:7: missing required key \`path\``,
      `${f}:5:17: expected a string, got a list`,
      `${f}:4:13: expected a string, got the number 644 (YAML reads 0644 as the number 644; quote it: "0644")`,
    ]);
  });

  it('explains unknown keys, enums and unions without echoing strings', () => {
    const schema = z.strictObject({ state: z.enum(['started', 'stopped']), n: z.union([z.string(), z.number()]) });
    const r = schema.safeParse({ state: 'startd', n: true, extra: 'hunter2' }, { reportInput: true });
    const pos = (p: readonly (string | number)[], at?: string) => ({ file: 'f.yaml', line: p.length, col: at === 'key' ? 1 : 2 });
    const errors = zodIssuesToConfigErrors(r.error!.issues, pos, () => ['state', 'n']);
    expect(errors.map((e) => e.shortMessage)).toEqual([
      'f.yaml:1:2: expected one of started, stopped, got a string (did you mean `started`?)',
      'f.yaml:1:2: expected a string or a number, got a boolean',
      'f.yaml:1:1: unknown key `extra` (valid keys: state, n)',
    ]);
    for (const e of errors) expect(e.shortMessage).not.toContain('hunter2');
  });
});

describe('JSON Schemas', () => {
  it('describes the inventory strictly', () => {
    const s = inventoryJsonSchema() as { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean };
    expect(Object.keys(s.properties)).toEqual(['settings', 'defaults', 'vars', 'secrets', 'groups', 'hosts', 'bootstrap']);
    expect(s.required).toEqual(['hosts']);
    expect(s.additionalProperties).toBe(false);
  });

  it('describes playbook steps with the given kinds and writes both files', async () => {
    const text = JSON.stringify(playbookJsonSchema(fakeKinds));
    expect(text).toContain('"apt"');
    expect(text).toContain('"include"');
    const dir = await mkdtemp(path.join(tmpdir(), 'schemas-'));
    const files = await writeSchemas(dir, fakeKinds);
    expect(files.map((f) => path.basename(f))).toEqual(['inventory.schema.json', 'playbook.schema.json']);
    const inv = JSON.parse(await readFile(files[0]!, 'utf8')) as { title: string };
    expect(inv.title).toBe('provision inventory');
  });
});
