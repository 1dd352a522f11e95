/**
 * Test helper: runs a probe snippet or an apply fragment in a real `sh` (dash on Debian),
 * the way the engine does: fragments wrapped in a function after the SH_LIB preamble,
 * with `_C`/`_DR` reported back.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SH_LIB } from '../../../src/resources/sh-lib.js';
import type { Sh } from '../../../src/resources/sh.js';

export interface ShResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function sh(script: string | Sh, env: Record<string, string> = {}): ShResult {
  const r = spawnSync('sh', ['-s'], { input: String(script), encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', ...env } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export interface FragmentResult extends ShResult {
  changed: boolean;
  daemonReload: boolean;
}

/** Runs `fragment` as the body of a step function; `pre` runs before (e.g. `_DR=1`). */
export function runFragment(fragment: string | Sh, opts: { env?: Record<string, string>; pre?: string } = {}): FragmentResult {
  const script = `${SH_LIB}\n_DR=0\n${opts.pre ?? ''}\n_s() {\n${fragment}\n}\n_C=0\n_s </dev/null\n_rc=$?\nprintf '\\n@@C=%s DR=%s\\n' "$_C" "$_DR"\nexit $_rc\n`;
  const r = sh(script, opts.env);
  const m = /\n@@C=(\d?) DR=(\d?)\n$/.exec(r.stdout);
  return { ...r, stdout: r.stdout.replace(/\n@@C=.*\n$/, ''), changed: m?.[1] === '1', daemonReload: m?.[2] === '1' };
}

export function recorded(name: string): string {
  return readFileSync(fileURLToPath(new URL(`./recorded/${name}`, import.meta.url)), 'utf8');
}

export const isRoot = process.getuid?.() === 0;
