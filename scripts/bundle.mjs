/**
 * `npm run build`, after tsc: bundles the compiled CLI (dist/cli/main.js and everything
 * it imports, npm packages included) into one CommonJS file, dist/cli/provision.cjs, and
 * makes V8's code cache for it (dist/cli/provision.cjs.cache, src/cli/code-cache.ts) from
 * a warm-up run: `provision validate` of scripts/warm-up/.
 * The `bin`, dist/cli/provision.js (src/cli/provision.ts), runs the bundle from that cache.
 *
 * Why (docs/startup.md): Node 20 resolves, reads and compiles each ES module
 * on its own. The CLI loads 400 of them (163 its own), which cost ~0.25 s of every command
 * before any work; compiling the one bundle still cost ~0.1 s, which the cache mostly removes.
 *
 * - The bundle stays in dist/cli/, so the files it finds through
 *   `new URL('../../sh/', import.meta.url)` (sh/, static/, package.json) are where the
 *   unbundled modules find them; `import.meta.url` becomes the bundle's own file URL.
 * - Native addons (.node files: ssh2's sshcrypto, and cpu-features, which ssh2 asks for)
 *   cannot be bundled. ssh2's own JavaScript is bundled (loading it module by module cost
 *   ~40 ms of CPU per command), and its `require('./crypto/build/Release/sshcrypto.node')`
 *   becomes `require('ssh2/lib/protocol/crypto/build/Release/sshcrypto.node')`, found in
 *   node_modules from the bundle's folder wherever npm put ssh2. ssh2 silently falls back to
 *   slower JavaScript ciphers when that require fails: test/integration/cli-bundle.test.ts
 *   resolves every addon the bundle requires.
 * - Names are kept and a source map is written beside the bundle.
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BUNDLE = fileURLToPath(new URL('../dist/cli/provision.cjs', import.meta.url));
const CODE_CACHE = fileURLToPath(new URL('../dist/cli/code-cache.js', import.meta.url));
/** What the warm-up runs (scripts/warm-up/: a stack-shaped inventory, never connected to). */
const WARM_UP = ['validate', fileURLToPath(new URL('./warm-up/inventory/warm-up.yaml', import.meta.url))];
const NODE_MODULES = fileURLToPath(new URL('../node_modules/', import.meta.url));

/**
 * esbuild escapes non-ASCII characters in code but keeps comments as they are, and a
 * single one (an em dash in a package's comment) makes V8 hold the whole 3 MB source as a
 * two-byte string, twice the memory. Escaping them in comments changes nothing else.
 */
function asciiOnly(file) {
  const text = readFileSync(file, 'utf8');
  const ascii = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (ascii !== text) writeFileSync(file, ascii);
}

/** A package's relative `require('./x.node')` as `require('package/path/x.node')`, left to Node. */
const nativeAddons = {
  name: 'native-addons',
  setup(b) {
    b.onResolve({ filter: /\.node$/ }, (args) => {
      const file = path.resolve(args.resolveDir, args.path);
      const inPackage = path.relative(NODE_MODULES, file);
      if (inPackage.startsWith('..')) throw new Error(`native addon outside node_modules: ${file}`);
      return { path: inPackage.split(path.sep).join('/'), external: true };
    });
  },
};

const result = await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: BUNDLE,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['cpu-features'],
  plugins: [nativeAddons],
  define: { 'import.meta.url': '__provisionBundleUrl' },
  // The file is one function expression of CommonJS's five names, compiled as read by
  // src/cli/code-cache.ts (Node's loader would add the same wrapper to a .cjs file).
  // Strict mode first, as esbuild makes an ES module's bundle (its own "use strict" comes
  // after the banner, where it is no longer a directive).
  banner: {
    js: "(function (exports, require, module, __filename, __dirname) {\n'use strict';\nconst __provisionBundleUrl = require('node:url').pathToFileURL(__filename).href;",
  },
  footer: { js: '})' },
  sourcemap: 'linked',
  keepNames: true,
  logLevel: 'warning',
});
if (result.errors.length > 0) process.exit(1);
asciiOnly(BUNDLE);
// In a process of its own: the warm-up runs the CLI, which owns process.argv and exit.
const warmUp = spawnSync(
  process.execPath,
  ['--input-type=module', '-e', `import { warmUpCodeCache } from ${JSON.stringify(CODE_CACHE)}; warmUpCodeCache(${JSON.stringify(BUNDLE)}, ${JSON.stringify(WARM_UP)});`],
  { encoding: 'utf8', env: { ...process.env, CI: 'true', NO_COLOR: '1' } },
);
if (warmUp.status !== 0) {
  process.stderr.write(`the code cache's warm-up, provision ${WARM_UP.join(' ')}, failed:\n${warmUp.stdout}${warmUp.stderr}`);
  process.exit(1);
}
