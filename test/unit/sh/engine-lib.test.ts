/**
 * sh/run.sh, journal.sh, lock.sh, restore.sh and gate.sh, function by function, in a real
 * sh (dash) on temp dirs, loaded exactly as the scripts load them (shLibrary).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SH_LIB, shLibrary } from '../../../src/resources/sh-lib.js';
import { shellQuote as quote } from '../../../src/config/shell-quote.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sh-engine-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `body` after lib.sh and the named library files, with _M='@@n' and _T=$dir. */
function run(libs: string[], body: string): { status: number | null; stdout: string; stderr: string } {
  const text = [SH_LIB, ...libs.map(shLibrary), `_M='@@n'; _T=${quote(dir)}; _G=${quote(dir)}`, body].join('\n');
  const r = spawnSync('sh', ['-c', text], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('run.sh', () => {
  it('_run frames ok, changed and failed (with the step\'s output in base64) and stops after a failure', () => {
    const r = run(['run'], [
      `_s() { :; }; _run 0`,
      `_s() { _changed; }; _run 1`,
      `_s() { echo broke; return 3; }; _run 2 || echo "failed=$_FAILED"`,
    ].join('\n'));
    expect(r.stdout).toBe(`@@n begin 0\n@@n ok 0\n@@n begin 1\n@@n changed 1\n@@n begin 2\n@@n failed 2 3\n${b64('broke\n')}\nfailed=1\n`);
  });

  it('_run starts no step once the stop flag exists', () => {
    writeFileSync(path.join(dir, 'stop'), '');
    const r = run(['run'], `_s() { echo ran; }; _run 4 || echo "stopped=$_STOPPED"`);
    expect(r.stdout).toBe('@@n stopped 4\nstopped=1\n');
  });

  it('_runh frames hok, hchanged and hfailed and returns the handler\'s status', () => {
    const r = run(['run'], [`_h() { :; }; _runh 0`, `_h() { _changed; }; _runh 1`, `_h() { echo no >&2; return 2; }; _runh 2; echo "rc=$?"`].join('\n'));
    expect(r.stdout).toBe(`@@n hok 0\n@@n hchanged 1\n@@n hfailed 2 2\n${b64('no\n')}\nrc=2\n`);
  });
});

describe('journal.sh', () => {
  it('_jinit drops an earlier journal; _jsave records a replaced file (with a copy) and a created one, once each', () => {
    const j = path.join(dir, 'j');
    mkdirSync(j);
    writeFileSync(path.join(j, 'stale'), '');
    const f = path.join(dir, 'f');
    writeFileSync(f, 'old');
    const r = run(['journal'], `_jinit ${quote(j)} 'run=1'\n[ -e ${quote(j)} ] && echo kept\n_jsave ${quote(f)} && _jsave ${quote(f)} && _jsave ${quote(path.join(dir, 'new'))}`);
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(path.join(j, 'run'), 'utf8')).toBe('run=1\n');
    expect(readFileSync(path.join(j, 'index'), 'utf8')).toBe(`replaced 1 ${f}\ncreated 2 ${path.join(dir, 'new')}\n`);
    expect(readFileSync(path.join(j, '1'), 'utf8')).toBe('old');
    expect(existsSync(path.join(j, 'stale'))).toBe(false);
  });
});

describe('lock.sh', () => {
  it('_kv reads a key of a holder line; _pstat reads this shell\'s state and start time', () => {
    const r = run(['lock'], `_kv session 'controller=a remote_pid=12 session=34 work=/tmp/x'; echo; _kv nope 'a=1'; echo "[]"; _pstat $$ && echo "$_pz $_ps"`);
    const [kv, none, stat] = r.stdout.split('\n');
    expect([kv, none]).toEqual(['34', '[]']);
    expect(stat).toMatch(/^[RS] \d+$/);
  });

  it('_lockstate: live for a running holder, stale for a missing, dead or reused pid', () => {
    const r = run(['lock'], [
      `_pstat $$; _lockstate "c=x remote_pid=$$ remote_start=$_ps session=0"`,
      `_lockstate 'c=x'`,
      `_lockstate 'c=x remote_pid=999999999 remote_start=1'`,
      `_lockstate "c=x remote_pid=$$ remote_start=1"`,
    ].join('\n'));
    expect(r.stdout.split('\n')).toEqual([
      'live',
      'stale: the holder recorded no apply process',
      'stale: its apply process 999999999 is gone',
      expect.stringMatching(/^stale: pid \d+ is no longer the apply that took the lock$/),
      '',
    ]);
  });
});

describe('restore.sh', () => {
  it('_restore puts back replaced files and removes created ones, newest first', () => {
    const j = path.join(dir, 'j');
    mkdirSync(j);
    const kept = path.join(dir, 'kept');
    const made = path.join(dir, 'made');
    writeFileSync(kept, 'changed');
    writeFileSync(made, 'new');
    writeFileSync(path.join(j, '1'), 'original');
    writeFileSync(path.join(j, 'index'), `replaced 1 ${kept}\ncreated 2 ${made}\n`);
    const r = run(['restore'], `_J=${quote(j)}; _restore && echo ok`);
    expect(r.stdout).toBe(`@@n removed ${made}\n@@n restored ${kept}\nok\n`);
    expect(readFileSync(kept, 'utf8')).toBe('original');
    expect(existsSync(made)).toBe(false);
  });

  it('_rh frames a handler\'s success and its failure with the tail of its output', () => {
    const r = run(['restore'], `_h() { :; }; _rh 0; _h() { echo bad; return 1; }; _rh 1; echo "rc=$?"`);
    expect(r.stdout).toBe(`@@n hok 0\n@@n hfailed 1\n${b64('bad\n')}\nrc=1\n`);
  });
});

describe('gate.sh', () => {
  it('_cs reads centiseconds of uptime with builtins', () => {
    const r = run(['gate'], `_cs; a=$_now; _cs; echo $((_now - a >= 0)) "$a"`);
    expect(r.stdout).toMatch(/^1 \d+\n$/);
  });

  it('_gate passes at once, or retries until its retries run out', () => {
    const r = run(['gate'], `_g() { echo fine; }; _gate 0 3 0 0 10000\n_g() { echo "no $1"; return 1; }; _gate 1 2 0 0 10000`);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^@@n gate 0 pass 1 \d+$/);
    expect(Buffer.from(lines[1]!, 'base64').toString()).toBe('fine\n');
    expect(lines[2]).toMatch(/^@@n gate 1 fail 3 \d+$/);
    expect(Buffer.from(lines[3]!, 'base64').toString()).toMatch(/^no \d+\n$/);
  });
});
