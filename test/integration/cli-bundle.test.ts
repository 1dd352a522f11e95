/**
 * The shipped command (package.json `bin`) is the bundled CLI run from V8's code cache
 * (src/cli/code-cache.ts, scripts/bundle.mjs): it must be the same CLI as dist/cli/main.js,
 * use its cache with the Node that built it, and still run when the cache is stale.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, REPO } from '../support/cli.js';

const BUNDLE = path.join(REPO, 'dist/cli/provision.cjs');
const SCRATCH = path.join(REPO, 'node_modules/.cache/provision-bundle-test');
afterAll(() => rmSync(SCRATCH, { recursive: true, force: true }));

/** Runs `provision ARGS` from BUNDLE in a child process; says on stderr whether the cache served. */
function runFrom(bundle: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const code = [
    `import { loadBundle } from ${JSON.stringify(path.join(REPO, 'dist/cli/code-cache.js'))};`,
    `process.argv = [process.argv[0], ${JSON.stringify(bundle)}, ...${JSON.stringify(args)}];`,
    `const bundle = loadBundle(${JSON.stringify(bundle)});`,
    `process.stderr.write('cache used: ' + bundle.cacheUsed + '\\n');`,
    'bundle.run();',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the bundled CLI', () => {
  it('is the bin, and every native addon it requires resolves from its folder', () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(path.join(REPO, pkg.bin.provision!)).toBe(CLI);
    const text = readFileSync(BUNDLE, 'utf8');
    // ssh2's JavaScript is inside; its crypto addon is required by package path, not by a
    // path relative to ssh2's own files (which would not exist beside the bundle).
    expect(text).toMatch(/node_modules\/ssh2\/lib\/client\.js/);
    const addons = [...text.matchAll(/require\("([^"]+\.node)"\)/g)].map((m) => m[1]!);
    expect(addons).toEqual(['ssh2/lib/protocol/crypto/build/Release/sshcrypto.node']);
    const requireFromBundle = createRequire(BUNDLE);
    for (const addon of addons) expect(() => requireFromBundle.resolve(addon)).not.toThrow();
    expect(text).not.toMatch(/require\("\.{1,2}\/[^"]*\.node"\)/);
  });

  it('runs in strict mode, as its ES modules would', () => {
    const text = readFileSync(BUNDLE, 'utf8');
    expect(text.split('\n').slice(0, 3)).toEqual(['#!/usr/bin/env node', '(function (exports, require, module, __filename, __dirname) {', "'use strict';"]);
  });

  it('is ASCII only, so V8 holds its 3 MB of source as one-byte text', () => {
    const bytes = readFileSync(BUNDLE);
    const firstNonAscii = bytes.findIndex((b) => b > 0x7f);
    expect(firstNonAscii, `byte ${firstNonAscii}: ${bytes.subarray(Math.max(0, firstNonAscii - 60), firstNonAscii + 20).toString()}`).toBe(-1);
  });

  it('runs from the code cache the build made, and prints what the unbundled CLI prints', () => {
    const bundled = runFrom(BUNDLE, ['validate', '--help']);
    expect(bundled.code, bundled.stderr).toBe(0);
    expect(bundled.stderr).toContain('cache used: true');
    const unbundled = spawnSync(process.execPath, [path.join(REPO, 'dist/cli/main.js'), 'validate', '--help'], { encoding: 'utf8' });
    expect(bundled.stdout).toBe(unbundled.stdout);
  });

  it('still runs, compiling the source, when the cache does not fit it (rebuilt bundle, other Node)', () => {
    // A copy of the install's layout: the CLI reads sh/ beside dist/ when it loads.
    const dir = path.join(SCRATCH, 'dist/cli');
    mkdirSync(dir, { recursive: true });
    cpSync(path.join(REPO, 'sh'), path.join(SCRATCH, 'sh'), { recursive: true });
    const copy = path.join(dir, 'provision.cjs');
    // The same code with one more line: V8 refuses the old cache for it.
    writeFileSync(copy, readFileSync(BUNDLE, 'utf8') + '\n// rebuilt\n');
    copyFileSync(`${BUNDLE}.cache`, `${copy}.cache`);
    const stale = runFrom(copy, ['--help']);
    expect(stale.code, stale.stderr).toBe(0);
    expect(stale.stdout).toMatch(/^Usage: provision /m);
    expect(stale.stderr).toContain('cache used: false');

    writeFileSync(`${copy}.cache`, 'not bytecode');
    const garbage = runFrom(copy, ['--help']);
    expect(garbage.code, garbage.stderr).toBe(0);
    expect(garbage.stderr).toContain('cache used: false');
  });

  it('says how to build when the bundle is missing, with no stack trace', () => {
    const dir = path.join(SCRATCH, 'no-bundle/dist/cli');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(SCRATCH, 'no-bundle/package.json'), '{ "type": "module" }\n');
    for (const f of ['provision.js', 'code-cache.js']) copyFileSync(path.join(REPO, 'dist/cli', f), path.join(dir, f));
    const r = spawnSync(process.execPath, [path.join(dir, 'provision.js'), '--version'], { encoding: 'utf8', env: { ...process.env, PROVISION_DEBUG: '' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^provision: cannot read the bundled CLI \(ENOENT[^\n]*\): run `npm run build`\n$/);
  });
});
