import { describe, expect, it } from 'vitest';
import { mtimeCollector } from '../../../../src/resources/facts/mtime.js';
import { haproxyProcCollector } from '../../../../src/resources/facts/haproxy.js';
import { parseLiveRecord, pendingLoad } from '../../../../src/resources/haproxy/pending-load.js';
import { parseShowProc, parseUptime } from '../../../../src/resources/haproxy/show-proc.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { shellQuote as quote } from '../../../../src/config/shell-quote.js';
import { recorded, sh } from '../run-sh.js';

const NOW = 1_795_000_000;
const proc = parseShowProc(`${NOW}\n${recorded('haproxy-show-proc.txt')}`)!;

describe('show proc (recorded HAProxy 2.6.12 after one reload)', () => {
  it('gives the master start (service start) and the current worker start (last load)', () => {
    expect(parseUptime('0d00h00m24s')).toBe(24);
    expect(parseUptime('2d03h04m05s')).toBe(((2 * 24 + 3) * 60 + 4) * 60 + 5);
    expect(proc).toEqual({ now: NOW, masterStart: NOW - 24, workerStart: NOW - 2, workerPids: [1436] });
  });
  it('null without an answer', () => {
    expect(parseShowProc(`${NOW}\n`)).toBeNull();
    expect(parseShowProc('')).toBeNull();
  });
  it('collector: keyed by master socket', () => {
    const out = `/run/m.sock\0${NOW}\n${recorded('haproxy-show-proc.txt')}\0`;
    expect(haproxyProcCollector.parse(out, ['/run/m.sock']).get('/run/m.sock')?.workerStart).toBe(NOW - 2);
    expect(haproxyProcCollector.script(['/run/m.sock']).text).toContain(`printf 'show proc\\n' | socat -t5 stdio UNIX-CONNECT:/run/m.sock`);
  });
});

describe('mtime collector (its one find, run for real)', () => {
  it('a file: its own time; a directory: the newest of its non-hidden regular files; missing or empty: null', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'provision-mtime-'));
    const confd = path.join(dir, 'conf d');
    const empty = path.join(dir, 'empty');
    const main = path.join(dir, 'haproxy.cfg');
    const at = (f: string, t: number) => `touch -d @${t} ${quote(f)}`;
    const r = sh(
      [
        `mkdir ${quote(confd)} ${quote(empty)} ${quote(path.join(confd, 'sub'))}`,
        `: > ${quote(main)}; : > ${quote(path.join(confd, 'a.cfg'))}; : > ${quote(path.join(confd, 'b.cfg'))}; : > ${quote(path.join(confd, '.tmp-x'))}`,
        at(main, NOW - 500),
        at(path.join(confd, 'a.cfg'), NOW - 300),
        at(path.join(confd, 'b.cfg'), NOW - 200),
        // a tool's temp file, a subdirectory and the directory itself are newer: not counted
        at(path.join(confd, '.tmp-x'), NOW),
        at(path.join(confd, 'sub'), NOW),
        at(confd, NOW),
        mtimeCollector.script([main, confd, empty, path.join(dir, 'gone')]),
      ].join('\n'),
    );
    const m = mtimeCollector.parse(r.stdout, [main, confd, empty, path.join(dir, 'gone')]);
    expect([...m.values()]).toEqual([NOW - 500, NOW - 200, null, null]);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('pendingLoad', () => {
  const files = { reload: ['/etc/haproxy/haproxy.cfg', '/etc/haproxy/conf.d'], restart: ['/etc/default/haproxy'] };
  it('nothing pending when every file is older than the load (within the slack)', () => {
    const m = new Map([['/etc/haproxy/haproxy.cfg', NOW - 2 + 2], ['/etc/haproxy/conf.d', NOW - 100], ['/etc/default/haproxy', NOW - 24]]);
    expect(pendingLoad(proc, m, files)).toEqual({ notes: [], attrs: [], reload: false, restart: false });
  });
  it('a configuration changed after the worker loaded it: reload pending, with both times', () => {
    const m = new Map([['/etc/haproxy/haproxy.cfg', NOW - 2 + 3]]);
    const p = pendingLoad(proc, m, files);
    expect(p.reload).toBe(true);
    expect(p.restart).toBe(false);
    expect(p.notes).toEqual([
      `reload pending: /etc/haproxy/haproxy.cfg changed at ${new Date((NOW + 1) * 1000).toISOString().replace('.000Z', 'Z')}, HAProxy loaded its configuration at ${new Date((NOW - 2) * 1000).toISOString().replace('.000Z', 'Z')}`,
    ]);
  });
  it('a start-only file changed after the master started: restart pending', () => {
    const p = pendingLoad(proc, new Map([['/etc/default/haproxy', NOW - 10]]), files);
    expect([p.restart, p.reload]).toEqual([true, false]);
    expect(p.notes[0]).toMatch(/^restart pending: \/etc\/default\/haproxy changed at /);
  });
  it('HAProxy not answering: nothing to compare', () => {
    expect(pendingLoad(null, new Map([['/etc/default/haproxy', NOW]]), files).notes).toEqual([]);
  });
});

describe('pendingLoad with the live record (a change applied through the admin socket)', () => {
  const files = { reload: ['/etc/haproxy/haproxy.cfg', '/etc/haproxy/conf.d'], restart: ['/etc/default/haproxy'] };
  it('a reload file whose mtime is the recorded one is not pending; any other mtime still is', () => {
    const live = parseLiveRecord(`${NOW + 50} /etc/haproxy/haproxy.cfg\ngarbage\n`);
    expect([...live]).toEqual([['/etc/haproxy/haproxy.cfg', NOW + 50]]);
    const m = new Map([['/etc/haproxy/haproxy.cfg', NOW + 50], ['/etc/haproxy/conf.d', NOW - 100], ['/etc/default/haproxy', NOW - 24]]);
    expect(pendingLoad(proc, m, files, live).reload).toBe(false);
    expect(pendingLoad(proc, m, files).reload).toBe(true);
    // edited again after the live apply (a hand edit put back): pending
    m.set('/etc/haproxy/haproxy.cfg', NOW + 60);
    expect(pendingLoad(proc, m, files, live).notes).toEqual([
      `reload pending: /etc/haproxy/haproxy.cfg changed at ${new Date((NOW + 60) * 1000).toISOString().replace('.000Z', 'Z')}, HAProxy loaded its configuration at ${new Date((NOW - 2) * 1000).toISOString().replace('.000Z', 'Z')}`,
    ]);
  });
  it('the record never excuses a restart file', () => {
    const m = new Map([['/etc/haproxy/haproxy.cfg', NOW - 100], ['/etc/default/haproxy', NOW + 50]]);
    expect(pendingLoad(proc, m, files, parseLiveRecord(`${NOW + 50} /etc/default/haproxy\n`)).restart).toBe(true);
    expect(parseLiveRecord(null).size).toBe(0);
  });
});
