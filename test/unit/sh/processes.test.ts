/**
 * What a changed step costs the host in processes (fork/exec dominates on a busy host),
 * counted exactly with `strace -ff` (one trace file per process) around a real sh running
 * the library and the step. These are the figures the first apply is built to: a new
 * text file is one sha256sum (its content checked before the rename) and one mv.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SH_LIB } from '../../../src/resources/sh-lib.js';
import { shellQuote as quote } from '../../../src/config/shell-quote.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sh-procs-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The commands exec'd by the processes `body` started (the shell itself excluded), in order. */
function processes(body: string): string[] {
  const traces = path.join(dir, 'traces');
  mkdirSync(traces);
  const r = spawnSync('strace', ['-ff', '-qq', '-e', 'trace=execve', '-o', path.join(traces, 't'), '/bin/sh', '-s'], {
    input: `umask 022\n${SH_LIB}\n_s() {\n${body}\n}\n_C=0\n_s || exit 9\n`,
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  const files = readdirSync(traces).map((f) => readFileSync(path.join(traces, f), 'utf8'));
  rmSync(traces, { recursive: true });
  const commands = files.flatMap((t) => [...t.matchAll(/^execve\("[^"]*", \["([^"]+)"/gm)].map((m) => m[1]!));
  // Every process execs one command (no bare subshell forks), and the first is the shell.
  expect(commands).toHaveLength(files.length);
  expect(commands.shift()).toBe('/bin/sh');
  return commands.sort();
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const put = (dest: string, content: string, ...opts: string[]) =>
  `_put ${[dest, sha(content), path.join(path.dirname(dest), `.provision-n.${path.basename(dest)}`), ...opts, `text=${content}`].map(quote).join(' ')}`;

describe('processes per changed step', () => {
  it('a new text file with its mode: sha256sum and mv, nothing else', () => {
    expect(processes(put(path.join(dir, 'f.cfg'), 'a = 1\n', 'mode=640'))).toEqual(['mv', 'sha256sum']);
  });

  it('a new file whose mode needs a chmod, with owner and group: one chmod, one chown', () => {
    expect(processes(put(path.join(dir, 'x'), '#!/bin/sh\n', 'mode=755', 'owner=root', 'group=root'))).toEqual(['chmod', 'chown', 'mv', 'sha256sum']);
  });

  it('a file already in sync: one sha256sum, one stat for its attributes', () => {
    writeFileSync(path.join(dir, 's'), 'same\n', { mode: 0o644 });
    expect(processes(put(path.join(dir, 's'), 'same\n', 'mode=644'))).toEqual(['sha256sum', 'stat']);
  });

  it('a new directory with its mode: one mkdir', () => {
    expect(processes(`_dir ${quote(path.join(dir, 'a/b'))} 700 '' ''`)).toEqual(['mkdir']);
  });

  it('a line added to an existing file: awk, cmp, cp (its attributes) and mv', () => {
    writeFileSync(path.join(dir, 'e'), 'A=0\n');
    const args = [path.join(dir, 'e'), 'present', '0', path.join(dir, '.provision-n.e'), '^B=', 'B=1'];
    expect(processes(`_line ${args.map(quote).join(' ')}`)).toEqual(['awk', 'cmp', 'cp', 'mv']);
    expect(processes(`_line ${[...args.slice(0, 4), '^C=', 'C=1', '640'].map(quote).join(' ')}`)).toEqual(['awk', 'cmp', 'cp', 'mv']);
  });

  it('a file created by a line with its mode: one mv', () => {
    const args = [path.join(dir, 'new'), 'present', '1', path.join(dir, '.provision-n.new'), '^B=', 'B=1', '644'];
    expect(processes(`_line ${args.map(quote).join(' ')}`)).toEqual(['mv']);
  });
});
