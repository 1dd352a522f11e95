/**
 * sh/lib.sh, function by function, in a real sh (dash) on temp dirs, the way the engine
 * runs it: each call is the body of a step function after the library (runFragment).
 */
import { createHash } from 'node:crypto';
import { chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { shellQuote as quote } from '../../../src/config/shell-quote.js';
import { isRoot, runFragment } from '../resources/run-sh.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sh-lib-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const mode = (p: string) => (statSync(p).mode & 0o7777).toString(8);
const p = (name: string) => path.join(dir, name);
const stage = (name: string) => p(`.provision-n1.${name}`);
/** `_put DEST SHA STAGE OPTIONS... text=CONTENT` */
const put = (name: string, content: string, ...opts: string[]) =>
  `_put ${[p(name), sha(content), stage(name), ...opts, `text=${content}`].map(quote).join(' ')}`;
const leftovers = () => readdirSync(dir).filter((n) => n.startsWith('.provision-'));

describe('_sha', () => {
  it('sets _sum to a regular file\'s SHA-256, empty for a missing file or a symlink', () => {
    writeFileSync(p('f'), 'abc');
    symlinkSync(p('f'), p('l'));
    const r = runFragment(`for f in ${quote(p('f'))} ${quote(p('missing'))} ${quote(p('l'))}; do _sha "$f"; echo "[$_sum]"; done`);
    expect(r.stdout).toBe(`[${sha('abc')}]\n[]\n[]\n`);
  });
});

describe('_umask_for', () => {
  it.each([
    ['644', '133', ''],
    ['640', '137', ''],
    ['600', '177', ''],
    ['444', '333', ''],
    ['755', '077', '1'],
    ['4644', '077', '1'],
    ['', '077', '1'],
  ])('mode %s: umask %s, chmod needed %s', (m, um, fx) => {
    expect(runFragment(`_umask_for ${quote(m)}; echo "$_um/$_fx"`).stdout).toBe(`${um}/${fx}\n`);
  });
});

describe('_put', () => {
  it('writes text content with the printf builtin, born with its mode, and commits it', () => {
    const r = runFragment(put('a.cfg', 'line 1\nline 2\n', 'mode=640'));
    expect(r.status).toBe(0);
    expect(r.changed).toBe(true);
    expect(readFileSync(p('a.cfg'), 'utf8')).toBe('line 1\nline 2\n');
    expect(mode(p('a.cfg'))).toBe('640');
    expect(leftovers()).toEqual([]);
  });

  it('keeps quotes, backslashes, % and a missing final newline byte for byte', () => {
    const text = `it's "quoted" \\n %s %% $HOME \`x\` é`;
    expect(runFragment(put('q', text)).status).toBe(0);
    expect(readFileSync(p('q'), 'utf8')).toBe(text);
  });

  it('decodes base64 from stdin, and takes raw bytes with `raw`', () => {
    const bin = Buffer.from([0, 1, 2, 255, 10]);
    const args = (n: string) => [p(n), sha(bin), stage(n), 'mode=600'].map(quote).join(' ');
    writeFileSync(p('payload'), bin);
    const r = runFragment(`_put ${args('b64')} <<'E'\n${bin.toString('base64')}\nE\n_put ${args('raw')} raw < ${quote(p('payload'))}`);
    expect(r.status).toBe(0);
    expect(readFileSync(p('b64')).equals(bin)).toBe(true);
    expect(readFileSync(p('raw')).equals(bin)).toBe(true);
    expect(mode(p('raw'))).toBe('600');
  });

  it('leaves a file that already holds the content alone, fixing only its attributes', () => {
    writeFileSync(p('same'), 'x\n');
    const before = statSync(p('same')).ino;
    const r = runFragment(put('same', 'x\n', 'mode=600'));
    expect(r.changed).toBe(true);
    expect(statSync(p('same')).ino).toBe(before);
    expect(mode(p('same'))).toBe('600');
    expect(runFragment(put('same', 'x\n', 'mode=600')).changed).toBe(false);
  });

  it('refuses content that arrived corrupted, leaving the target and no staged file', () => {
    writeFileSync(p('t'), 'old\n');
    const bad = `_put ${[p('t'), sha('other'), stage('t'), 'text=new\n'].map(quote).join(' ')}`;
    const r = runFragment(bad);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`content of ${p('t')} arrived corrupted`);
    expect(readFileSync(p('t'), 'utf8')).toBe('old\n');
    expect(leftovers()).toEqual([]);
  });

  it('runs the validation on the staged file and installs nothing when it fails', () => {
    writeFileSync(p('v'), 'old\n');
    const fails = runFragment(put('v', 'bad\n', `validate=grep -q good ${quote(stage('v'))}`));
    expect(fails.status).toBe(1);
    expect(fails.stderr).toContain(`validation failed for ${p('v')}: grep -q good`);
    expect(readFileSync(p('v'), 'utf8')).toBe('old\n');
    expect(leftovers()).toEqual([]);
    expect(runFragment(put('v', 'good\n', `validate=grep -q good ${quote(stage('v'))}`)).status).toBe(0);
    expect(readFileSync(p('v'), 'utf8')).toBe('good\n');
  });

  it('with stage-only leaves the validated staged file for the set\'s commit', () => {
    const r = runFragment(put('s', 'staged\n', 'stage-only'));
    expect(r.changed).toBe(true);
    expect(readFileSync(stage('s'), 'utf8')).toBe('staged\n');
    expect(() => statSync(p('s'))).toThrow();
  });

  it('with backup keeps the replaced file as NAME.TIMESTAMP.provision~', () => {
    writeFileSync(p('k'), 'old\n');
    expect(runFragment(put('k', 'new\n', 'backup')).status).toBe(0);
    const backups = readdirSync(dir).filter((n) => /^k\.\d{8}T\d{6}\.provision~$/.test(n));
    expect(backups).toHaveLength(1);
    expect(readFileSync(p(backups[0]!), 'utf8')).toBe('old\n');
  });

  it('a replaced file keeps its mode and owner when none is asked', () => {
    writeFileSync(p('r'), 'old\n', { mode: 0o604 });
    if (isRoot) chownSync(p('r'), 65534, 65534);
    expect(runFragment(put('r', 'new\n')).status).toBe(0);
    expect(mode(p('r'))).toBe('604');
    if (isRoot) expect([statSync(p('r')).uid, statSync(p('r')).gid]).toEqual([65534, 65534]);
  });

  it.runIf(isRoot)('sets owner and group in one chown', () => {
    expect(runFragment(put('o', 'x\n', 'owner=nobody', 'group=nogroup', 'mode=755')).status).toBe(0);
    expect([statSync(p('o')).uid, statSync(p('o')).gid, mode(p('o'))]).toEqual([65534, 65534, '755']);
  });

  it('refuses a directory in the way and an unknown option', () => {
    mkdirSync(p('d'));
    expect(runFragment(put('d', 'x')).stderr).toContain(`${p('d')} is a directory`);
    const r = runFragment(put('u', 'x', 'colour=red'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('_put: unknown option colour=red');
  });

  it('leaves the umask at 022 after writing', () => {
    expect(runFragment(`umask 022\n${put('m', 'x', 'mode=600')}\numask`).stdout).toBe('0022\n');
  });
});

describe('_attrs', () => {
  it('fixes only what differs, reports a change only then', () => {
    writeFileSync(p('f'), 'x', { mode: 0o644 });
    expect(runFragment(`_attrs ${quote(p('f'))} 600 '' ''`).changed).toBe(true);
    expect(mode(p('f'))).toBe('600');
    expect(runFragment(`_attrs ${quote(p('f'))} 600 '' ''`).changed).toBe(false);
    expect(runFragment(`_attrs ${quote(p('f'))} '' '' ''`).changed).toBe(false);
  });

  it.runIf(isRoot)('changes owner and group together', () => {
    writeFileSync(p('g'), 'x');
    expect(runFragment(`_attrs ${quote(p('g'))} '' nobody nogroup`).changed).toBe(true);
    expect([statSync(p('g')).uid, statSync(p('g')).gid]).toEqual([65534, 65534]);
    expect(runFragment(`_attrs ${quote(p('g'))} '' nobody nogroup`).changed).toBe(false);
  });

  it('fails on a missing path', () => {
    expect(runFragment(`_attrs ${quote(p('none'))} 600 '' ''`).status).toBe(1);
  });
});

describe('_dir', () => {
  it('creates a directory with its mode (parents 0755), then leaves it alone', () => {
    const d = p('a/b/c');
    const r = runFragment(`umask 022; _dir ${quote(d)} 700 '' ''`);
    expect(r.changed).toBe(true);
    expect(mode(d)).toBe('700');
    expect(mode(p('a/b'))).toBe('755');
    expect(runFragment(`_dir ${quote(d)} 700 '' ''`).changed).toBe(false);
    expect(runFragment(`_dir ${quote(d)} 750 '' ''`).changed).toBe(true);
    expect(mode(d)).toBe('750');
  });

  it.runIf(isRoot)('gives a new directory its owner and group', () => {
    expect(runFragment(`_dir ${quote(p('o'))} 750 nobody nogroup`).status).toBe(0);
    expect([statSync(p('o')).uid, statSync(p('o')).gid, mode(p('o'))]).toEqual([65534, 65534, '750']);
  });

  it('refuses a file or a symlink in the way', () => {
    writeFileSync(p('f'), 'x');
    symlinkSync(dir, p('l'));
    expect(runFragment(`_dir ${quote(p('f'))} '' '' ''`).stderr).toContain('exists and is not a directory');
    expect(runFragment(`_dir ${quote(p('l'))} '' '' ''`).status).toBe(1);
  });
});

describe('_absent, _commit, _link', () => {
  it('_absent removes a file, a dangling link and a tree; nothing to do is no change', () => {
    writeFileSync(p('f'), 'x');
    symlinkSync(p('nowhere'), p('l'));
    mkdirSync(p('t/u'), { recursive: true });
    for (const n of ['f', 'l', 't']) expect(runFragment(`_absent ${quote(p(n))}`).changed).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    expect(runFragment(`_absent ${quote(p('f'))}`).changed).toBe(false);
  });

  it('_commit renames the staged file over the target, with a backup when asked', () => {
    writeFileSync(p('c'), 'old');
    writeFileSync(stage('c'), 'new');
    expect(runFragment(`_commit ${quote(p('c'))} ${quote(stage('c'))} 1`).status).toBe(0);
    expect(readFileSync(p('c'), 'utf8')).toBe('new');
    expect(readdirSync(dir).filter((n) => n.endsWith('.provision~'))).toHaveLength(1);
    expect(leftovers()).toEqual([]);
  });

  it('_link points a link at its target, replacing a wrong one atomically', () => {
    symlinkSync('/wrong', p('l'));
    expect(runFragment(`_link ${quote(p('l'))} /etc/hostname ${quote(stage('l'))} '' ''`).changed).toBe(true);
    expect(readlinkSync(p('l'))).toBe('/etc/hostname');
    expect(runFragment(`_link ${quote(p('l'))} /etc/hostname ${quote(stage('l'))} '' ''`).changed).toBe(false);
    mkdirSync(p('d'));
    expect(runFragment(`_link ${quote(p('d'))} /x ${quote(stage('d'))} '' ''`).stderr).toContain('is a directory');
    expect(lstatSync(p('d')).isDirectory()).toBe(true);
  });
});

describe('_line', () => {
  const line = (st: string, create: string, re: string, text: string) => `_line ${[p('e'), st, create, stage('e'), re, text].map(quote).join(' ')}`;

  it('creates the file only with create, replaces the last match, appends when none matches', () => {
    expect(runFragment(line('present', '0', '^A=', 'A=1')).stderr).toContain('set create: true');
    expect(runFragment(line('present', '1', '^A=', 'A=1')).changed).toBe(true);
    writeFileSync(p('e'), 'A=0\nB=0\nA=2\n');
    expect(runFragment(line('present', '0', '^A=', 'A=1')).changed).toBe(true);
    expect(readFileSync(p('e'), 'utf8')).toBe('A=0\nB=0\nA=1\n');
    expect(runFragment(line('present', '0', '^C=', 'C=1')).changed).toBe(true);
    expect(readFileSync(p('e'), 'utf8')).toBe('A=0\nB=0\nA=1\nC=1\n');
    expect(runFragment(line('present', '0', '^C=', 'C=1')).changed).toBe(false);
    expect(runFragment(line('absent', '0', '^A=', '')).changed).toBe(true);
    expect(readFileSync(p('e'), 'utf8')).toBe('B=0\nC=1\n');
    expect(leftovers()).toEqual([]);
  });

  it('gives a created or edited file its MODE when one is given', () => {
    const withMode = (m: string, re: string, text: string) => `${line('present', '1', re, text)} ${m}`;
    expect(runFragment(withMode('640', '^A=', 'A=1')).changed).toBe(true);
    expect(mode(p('e'))).toBe('640');
    if (isRoot) chownSync(p('e'), 65534, 65534);
    expect(runFragment(withMode('604', '^B=', 'B=1')).changed).toBe(true);
    expect(mode(p('e'))).toBe('604');
    if (isRoot) expect([statSync(p('e')).uid, statSync(p('e')).gid]).toEqual([65534, 65534]);
    expect(runFragment(withMode('755', '^C=', 'C=1')).changed).toBe(true);
    expect(mode(p('e'))).toBe('755');
    expect(readFileSync(p('e'), 'utf8')).toBe('A=1\nB=1\nC=1\n');
  });

  it('keeps the edited file\'s mode and owner, and restores the umask', () => {
    writeFileSync(p('e'), 'A=0\n', { mode: 0o640 });
    if (isRoot) chownSync(p('e'), 65534, 65534);
    const r = runFragment(`umask 022\n${line('present', '0', '^A=', 'A=1')}\numask`);
    expect(r.stdout).toBe('0022\n');
    expect(mode(p('e'))).toBe('640');
    if (isRoot) expect([statSync(p('e')).uid, statSync(p('e')).gid]).toEqual([65534, 65534]);
  });
});

describe('_changed, _changed_live, _err, _daemon_reload', () => {
  it('_changed notifies, _changed_live does not; _err writes to stderr', () => {
    const r = runFragment(`_N=0; _changed_live; echo "N=$_N"; _changed; echo "N=$_N"; _err oops`);
    expect(r.changed).toBe(true);
    expect(r.stdout).toBe('N=0\nN=1\n');
    expect(r.stderr).toBe('oops\n');
  });

  it('_daemon_reload runs systemctl daemon-reload once, only when a unit changed', () => {
    writeFileSync(p('systemctl'), `#!/bin/sh\necho "$*" >> ${quote(p('calls'))}\n`, { mode: 0o755 });
    const env = { PATH: `${dir}:/usr/bin:/bin` };
    expect(runFragment('_daemon_reload; _daemon_reload', { env }).daemonReload).toBe(false);
    const r = runFragment('_daemon_reload; _daemon_reload', { env, pre: '_DR=1' });
    expect(r.daemonReload).toBe(false);
    expect(readFileSync(p('calls'), 'utf8')).toBe('daemon-reload\n');
  });
});
