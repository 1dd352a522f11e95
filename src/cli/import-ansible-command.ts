/** `import-ansible INVENTORY`: an Ansible inventory as a provision inventory (stdout or --output). */
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ProvisionError } from '../config/errors.js';
import { importAnsible } from '../config/ansible-import/index.js';

export async function importAnsibleCommand(file: string, opts: { groupVars?: string; hostVars?: string; output?: string }): Promise<number> {
  let result: Awaited<ReturnType<typeof importAnsible>>;
  try {
    result = await importAnsible(file, opts);
  } catch (e) {
    if (!(e instanceof ProvisionError) && !(e instanceof Error && 'code' in e)) throw e;
    process.stderr.write(`error: ${e instanceof ProvisionError ? e.shortMessage : (e as Error).message}\n`);
    return 1;
  }
  for (const n of result.notes) process.stderr.write(`warning: ${n}\n`);
  if (!opts.output) {
    process.stdout.write(result.yaml);
    return 0;
  }
  // Atomic: a reader never sees half an inventory.
  const tmp = path.join(path.dirname(opts.output), `.${path.basename(opts.output)}.${process.pid}.tmp`);
  await writeFile(tmp, result.yaml, { mode: 0o644 });
  await rename(tmp, opts.output);
  process.stderr.write(`wrote ${opts.output} (${result.notes.length} item(s) not carried over)\n`);
  return 0;
}
