/** `--help` for every command and `--version`, through the built CLI. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, runCli } from '../support/cli.js';

const COMMANDS = ['apply', 'check', 'bootstrap', 'hosts', 'validate', 'schemas'];

describe('provision --help and --version', () => {
  it('lists every command', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
  });

  for (const c of COMMANDS) {
    it(`${c} --help describes its usage and exits 0`, async () => {
      const r = await runCli([c, '--help']);
      expect(r.code, r.output).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: provision ${c} \\[options\\]`, 'm'));
      expect(r.stderr).toBe('');
    });
  }

  it('apply, check, bootstrap and validate --help list their exit codes', async () => {
    const codes: Record<string, RegExp> = {
      apply: /^Exit codes: 0 success, 1 .*, 130 interrupted/m,
      check: /^Exit codes: 0 in sync, 2 drift found, 1 .*, 130 interrupted/m,
      bootstrap: /^Exit codes: 0 .*, 1 .*, 130 interrupted/m,
      validate: /^Exit codes: 0 valid, 1 bad input/m,
    };
    for (const [c, re] of Object.entries(codes)) expect((await runCli([c, '--help'])).stdout).toMatch(re);
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    const r = await runCli(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: `${version}\n` });
  });
});
