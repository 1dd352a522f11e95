/**
 * The remote sh library (sh/*.sh) is real shell: shellcheck finds nothing in it (as
 * dash, the sh of Debian hosts), the text sent to hosts (comments dropped) still parses,
 * and every file ships in the npm package.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { shLibrary } from '../../../src/resources/sh-lib.js';

const FILES = readdirSync('sh').filter((f) => f.endsWith('.sh')).sort();

describe('the remote sh library', () => {
  it('has the files the scripts load', () => {
    expect(FILES).toEqual(['gate.sh', 'journal.sh', 'lib.sh', 'lock.sh', 'restore.sh', 'run.sh']);
  });

  it('passes shellcheck as dash, every finding fixed or disabled on its line with a reason', () => {
    const r = spawnSync('shellcheck', ['--shell=dash', '--format=gcc', ...FILES.map((f) => `sh/${f}`)], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('catches a finding (the check can fail)', () => {
    const r = spawnSync('shellcheck', ['--shell=dash', '--format=gcc', '-'], { input: 'f() { set -- $1; }\n', encoding: 'utf8' });
    expect(r.stdout).toContain('SC2086');
    expect(r.status).not.toBe(0);
  });

  it.each(FILES)('%s parses in dash once its comments are dropped, and defines its functions', (file) => {
    const text = shLibrary(file.replace(/\.sh$/, ''));
    expect(text).not.toMatch(/^\s*#/m);
    const names = [...text.matchAll(/^(_\w+)\(\)/gm)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(0);
    const r = spawnSync('sh', ['-c', `${text}\nfor f in ${names.join(' ')}; do command -v "$f" >/dev/null || echo "missing $f"; done`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  it('ships in the npm package', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const [pack] = JSON.parse(r.stdout) as { files: { path: string }[] }[];
    const paths = pack!.files.map((f) => f.path);
    for (const f of FILES) expect(paths).toContain(`sh/${f}`);
  });
});
