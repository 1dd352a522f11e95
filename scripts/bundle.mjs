/**
 * `npm run build`, second half: bundles the compiled CLI (dist/cli/main.js and everything
 * it imports, npm packages included) into one ES module, dist/cli/provision.mjs, the `bin`.
 *
 * Why: Node 20 resolves, reads and compiles each ES module on its own. The CLI loads about
 * 400 of them (its own ~150 and its packages'), and that cost ~0.25 s of every command
 * before any work (a check of 10 hosts: 0.85 s unbundled, 0.55 s bundled; docs/benchmark.md).
 * Node 20 has no module compile cache (`module.enableCompileCache` is Node 22), so one file
 * is the way to pay it once.
 *
 * - The bundle stays in dist/cli/, so the files it finds beside itself through
 *   `new URL('../../sh/', import.meta.url)` (sh/, static/, package.json) are where the
 *   unbundled modules find them.
 * - ssh2 (and its optional cpu-features) stay outside: they load native addons (.node) at
 *   run time from node_modules.
 * - CommonJS packages in the bundle (nunjucks, commander...) call `require` for Node's
 *   built-ins, so the bundle defines one (createRequire) before they run.
 * - Names are kept and a source map is written beside it (not loaded by default:
 *   `node --enable-source-maps dist/cli/provision.mjs` maps stack traces to src/).
 */
import { build } from 'esbuild';

const result = await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: 'dist/cli/provision.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['ssh2', 'cpu-features'],
  banner: { js: "import { createRequire as __provisionRequire } from 'node:module'; const require = __provisionRequire(import.meta.url);" },
  sourcemap: 'linked',
  keepNames: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
if (result.errors.length > 0) process.exit(1);
