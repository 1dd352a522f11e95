#!/usr/bin/env node
/**
 * The `provision` command (package.json `bin`): runs the bundled CLI, src/cli/main.ts and
 * everything it imports in one file, from its cached bytecode (code-cache.ts).
 * `node dist/cli/main.js` runs the same CLI unbundled, module by module.
 */
import { fileURLToPath } from 'node:url';
import { loadBundle } from './code-cache.js';

loadBundle(fileURLToPath(new URL('./provision.cjs', import.meta.url))).run();
