/**
 * Runs the bundled CLI (dist/cli/provision.cjs, one CommonJS file, scripts/bundle.mjs)
 * with V8's code cache: the bytecode compiled by a warm-up run at build time, kept beside
 * it (provision.cjs.cache). Node 20 has no compile cache of its own
 * (`module.enableCompileCache` is Node 22); compiling the 3 MB bundle, up front and then
 * function by function as they first run, cost ~0.1 s of every command
 * (docs/startup.md).
 *
 * The cache lives in dist/, written by the build like the bundle itself, never at run
 * time: it is as trusted as the code, and a read-only install stays read-only. V8 checks
 * it against the source, its own version and its flags; a cache it rejects (another Node
 * version, a rebuilt bundle) costs only the compile it was meant to save.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/**
 * The bundle is written as one function expression of CommonJS's five names (the wrapper
 * Node's own loader adds to a file), so its text is compiled as read: no wrapped copy of
 * 3 MB next to the one V8 keeps (it keeps the source for `Function#toString`).
 */
function compile(bundle: string, cachedData?: Buffer): vm.Script {
  let source: string;
  try {
    source = readFileSync(bundle, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the bundled CLI (${(err as Error).message}): run \`npm run build\``);
  }
  return new vm.Script(source, { filename: bundle, ...(cachedData ? { cachedData } : {}) });
}

/** The cache only saves time: one that cannot be read is as good as none. */
function readCache(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Runs the bundle's function as Node runs a CommonJS main module. */
function start(script: vm.Script, bundle: string): void {
  const main = script.runInThisContext() as (...args: unknown[]) => void;
  const module = { exports: {} };
  main.call(module.exports, module.exports, createRequire(bundle), module, bundle, path.dirname(bundle));
}

/**
 * Loads the bundle from the cached bytecode when V8 accepts it; `run` starts the CLI.
 * `cacheUsed` says whether the cache served (tests).
 */
export function loadBundle(bundle: string): { cacheUsed: boolean; run: () => void } {
  const cachedData = readCache(`${bundle}.cache`);
  const script = compile(bundle, cachedData);
  return { cacheUsed: cachedData !== undefined && script.cachedDataRejected !== true, run: () => start(script, bundle) };
}

/**
 * The build's warm-up: runs the CLI from the bundle once, without a cache, with `argv`
 * (a `validate` of scripts/warm-up/), and when the process exits writes, atomically, the
 * bytecode of every function that run compiled: the CLI's start, the config loader, the
 * compile stage. Code the warm-up did not run (SSH, the engine) compiles when first used.
 * Why not every function (`--no-lazy`): their bytecode would stay in memory, and V8 lets
 * the heap grow in proportion to what it holds: +20 MB at the peak of a 500-host apply.
 */
export function warmUpCodeCache(bundle: string, argv: string[]): void {
  const script = compile(bundle);
  process.once('exit', () => {
    const file = `${bundle}.cache`;
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, script.createCachedData(), { mode: 0o644 });
    renameSync(temp, file);
  });
  process.argv = [process.argv[0]!, bundle, ...argv];
  start(script, bundle);
}
