/** The JSON Schemas committed under schemas/ (for editors) match what the code accepts. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inventoryJsonSchema, playbookJsonSchema } from '../../../src/config/json-schema.js';
import { STEP_KINDS } from '../../../src/resources/registry.js';
import { REPO } from '../../support/cli.js';

const committed = async (name: string) => JSON.parse(await readFile(path.join(REPO, 'schemas', name), 'utf8'));

describe('committed JSON Schemas', () => {
  it('are up to date (regenerate with `npm run build && npm run schemas`)', async () => {
    expect(await committed('inventory.schema.json')).toEqual(JSON.parse(JSON.stringify(inventoryJsonSchema())));
    expect(await committed('playbook.schema.json')).toEqual(JSON.parse(JSON.stringify(playbookJsonSchema(STEP_KINDS))));
  });
});
