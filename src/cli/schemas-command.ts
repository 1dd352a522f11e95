/** `schemas DIR`: JSON Schemas for editors (yaml-language-server `# yaml-language-server: $schema=`). */
import { writeSchemas } from '../config/json-schema.js';
import { STEP_KINDS } from '../resources/registry.js';

export async function schemasCommand(dir: string): Promise<number> {
  const files = await writeSchemas(dir, STEP_KINDS);
  for (const f of files) process.stdout.write(`wrote ${f}\n`);
  return 0;
}
