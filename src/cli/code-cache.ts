/**
 * Runs the bundled CLI (dist/cli/provision.cjs, one CommonJS file, scripts/bundle.mjs)
 * with V8's code cache: the bytecode of every function of the bundle, compiled at build
 * time and kept beside it (provision.cjs.cache). Node 20 has no compile cache of its own
 * (`module.enableCompileCache` is Node 22); compiling the 2 MB bundle, up front and then
 * function by function as they first run, cost ~0.1 s of every command
 * (docs/benchmark.md, "Start-up").
 *
 * The cache lives in dist/, written by the build like the bundle itself, never at run
 * time: it is as trusted as the code, and a read-only install stays read-only. V8 checks
 * it against the source, its own version and its flags; a cache it rejects (another Node
 * version, a rebuilt bundle) costs only the compile it was meant to save.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import v8 from 'node:v8';
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
  } catch {
    throw new Error(`${bundle} is missing: run \`npm run build\``);
  }
  return new vm.Script(source, { filename: bundle, ...(cachedData ? { cachedData } : {}) });
}

function readCache(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Loads the bundle as Node loads a CommonJS main module, from the cached bytecode when V8
 * accepts it; `run` starts the CLI. `cacheUsed` says whether the cache served (tests).
 */
export function loadBundle(bundle: string): { cacheUsed: boolean; run: () => void } {
  const cachedData = readCache(`${bundle}.cache`);
  const script = compile(bundle, cachedData);
  const main = script.runInThisContext() as (...args: unknown[]) => void;
  const module = { exports: {} };
  return {
    cacheUsed: cachedData !== undefined && script.cachedDataRejected !== true,
    run: () => main.call(module.exports, module.exports, createRequire(bundle), module, bundle, path.dirname(bundle)),
  };
}

/**
 * The build's step: compiles every function of the bundle now (`--no-lazy`), not only
 * those a run happens to call, and writes their bytecode atomically. The flag is set back
 * before the cache is made: V8 accepts a cache only under the flags it runs with.
 * Changes this process's V8 flags: call it in a process of its own, last.
 */
export function writeCodeCache(bundle: string): number {
  v8.setFlagsFromString('--no-lazy');
  const script = compile(bundle);
  v8.setFlagsFromString('--lazy');
  const data = script.createCachedData();
  const file = `${bundle}.cache`;
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, data, { mode: 0o644 });
  renameSync(temp, file);
  return data.length;
}
