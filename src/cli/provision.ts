#!/usr/bin/env node
/**
 * The `provision` command (package.json `bin`): runs the bundled CLI, src/cli/main.ts and
 * everything it imports in one file, from its cached bytecode (code-cache.ts).
 * `node dist/cli/main.js` runs the same CLI unbundled, module by module.
 */
import { fileURLToPath } from 'node:url';
import { loadBundle } from './code-cache.js';

try {
  loadBundle(fileURLToPath(new URL('./provision.cjs', import.meta.url))).run();
} catch (e) {
  // Loading the bundle, or a fault while its modules start: the CLI reports its own
  // errors once running (with the stack under PROVISION_DEBUG, as here).
  process.stderr.write(`provision: ${(e as Error).message}\n`);
  if (process.env.PROVISION_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
  process.exitCode = 1;
}
