import { describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { aptResource, splitPackage, type AptSpec } from '../../../src/resources/apt.js';
import type { PackageState } from '../../../src/resources/facts/types.js';
import { dctx, facts, sctx } from './facts-fixture.js';
import { runFragment } from './run-sh.js';

const spec = (body: Record<string, unknown>): AptSpec => aptResource.schema.parse(body);
const pkgs = (entries: Record<string, PackageState | null>) => facts({ package: new Map(Object.entries(entries)), aptListsAge: 60 });
const ii = (version: string): PackageState => ({ status: 'ii ', version });

describe('apt schema', () => {
  it('applies defaults', () => {
    expect(spec({ packages: ['haproxy'] })).toEqual({ packages: ['haproxy'], state: 'present', cache_max_age: 86400 });
  });
  it.each(['haproxy; rm -rf /', 'a b', 'Haproxy', 'x', '$(id)', 'haproxy=1.0 x', "haproxy='1'"])('rejects %j', (p) => {
    expect(aptResource.schema.safeParse({ packages: [p] }).success).toBe(false);
  });
  it('accepts names and pins', () => {
    expect(spec({ packages: ['libc6', 'g++', 'haproxy=2.6.12-1+deb12u2', 'x.y-z=1:2.0~rc1'] }).packages).toHaveLength(4);
  });
  it('rejects unknown keys and pins with absent', () => {
    expect(aptResource.schema.safeParse({ packages: ['a1'], update: true }).success).toBe(false);
    expect(aptResource.check!(spec({ packages: ['haproxy=1'], state: 'absent' }))).toMatch(/pin/);
    expect(aptResource.check!(spec({ packages: ['haproxy'], state: 'absent' }))).toBeNull();
  });
});

describe('apt id/facts', () => {
  it('names packages without versions', () => {
    const s = spec({ packages: ['haproxy=2.6', 'socat'] });
    expect(aptResource.id(s)).toBe('apt haproxy,socat');
    expect(aptResource.facts(s)).toEqual([{ kind: 'package', name: 'haproxy' }, { kind: 'package', name: 'socat' }, { kind: 'aptLists' }]);
    expect(splitPackage('a=1:2')).toEqual({ name: 'a', version: '1:2' });
  });
});

describe('apt diff', () => {
  const cases: { name: string; body: Record<string, unknown>; have: Record<string, PackageState | null>; action: string | null; reason?: RegExp; attrs?: unknown[] }[] = [
    { name: 'installed: in sync', body: { packages: ['haproxy'] }, have: { haproxy: ii('2.6') }, action: null },
    { name: 'held counts as installed', body: { packages: ['haproxy'] }, have: { haproxy: { status: 'hi ', version: '2.6' } }, action: null },
    {
      name: 'missing', body: { packages: ['haproxy', 'socat'] }, have: { haproxy: null, socat: ii('1') }, action: 'create',
      reason: /^not installed: haproxy$/, attrs: [{ field: 'package haproxy', before: null, after: 'present' }],
    },
    {
      name: 'removed with config files is not installed', body: { packages: ['haproxy'] }, have: { haproxy: { status: 'rc ', version: '2.6' } }, action: 'create',
      reason: /not installed/,
    },
    {
      name: 'pinned, other version', body: { packages: ['haproxy=2.8'] }, have: { haproxy: ii('2.6') }, action: 'update',
      reason: /version differs: haproxy/, attrs: [{ field: 'package haproxy', before: '2.6', after: '2.8' }],
    },
    { name: 'pinned, same version', body: { packages: ['haproxy=2.6'] }, have: { haproxy: ii('2.6') }, action: null },
    {
      name: 'pinned, missing', body: { packages: ['haproxy=2.6'] }, have: { haproxy: null }, action: 'create',
      attrs: [{ field: 'package haproxy', before: null, after: '2.6' }],
    },
    { name: 'absent, not installed', body: { packages: ['haproxy'], state: 'absent' }, have: { haproxy: null }, action: null },
    { name: 'absent, config files only', body: { packages: ['haproxy'], state: 'absent' }, have: { haproxy: { status: 'rc ', version: '2.6' } }, action: null },
    {
      name: 'absent, installed', body: { packages: ['haproxy', 'socat'], state: 'absent' }, have: { haproxy: ii('2.6'), socat: null }, action: 'delete',
      reason: /installed: haproxy/, attrs: [{ field: 'package haproxy', before: '2.6', after: null }],
    },
  ];
  it.each(cases)('$name', (c) => {
    const ch = aptResource.diff(spec(c.body), pkgs(c.have), dctx);
    if (c.action === null) return expect(ch).toBeNull();
    expect(ch?.action).toBe(c.action);
    expect(ch?.step).toBe(3);
    if (c.reason) expect(ch?.reason).toMatch(c.reason);
    if (c.attrs) expect(ch?.attrs).toEqual(c.attrs);
  });

  it('says when the lists will be refreshed', () => {
    const s = spec({ packages: ['haproxy'], cache_max_age: 3600 });
    expect(aptResource.diff(s, facts({ package: new Map([['haproxy', null]]), aptListsAge: 3 * 86400 }), dctx)?.reason).toMatch(/lists 3d old/);
    expect(aptResource.diff(s, facts({ package: new Map([['haproxy', null]]), aptListsAge: null }), dctx)?.reason).toMatch(/lists missing/);
    expect(aptResource.diff(s, facts({ package: new Map([['haproxy', null]]), aptListsAge: 60 }), dctx)?.reason).not.toMatch(/lists/);
  });
});

/**
 * The fragment against stub dpkg-query/apt-get (a real apt run needs a mirror and minutes):
 * the stubs keep the "installed" set in a file and log every apt-get call.
 */
function stubs(opts: { installed: string[]; unknownUntilUpdate?: string[] }): { dir: string; log: () => string[] } {
  const dir = mkdtempSync(path.join(tmpdir(), 'prov-apt-'));
  writeFileSync(path.join(dir, 'installed'), opts.installed.map((p) => `${p}\n`).join(''));
  writeFileSync(path.join(dir, 'unknown'), (opts.unknownUntilUpdate ?? []).map((p) => `${p}\n`).join(''));
  writeFileSync(path.join(dir, 'log'), '');
  const dpkg = `#!/bin/sh
D=${dir}
shift 2; [ "$1" = -- ] && shift
for p in "$@"; do
  v=$(grep "^$p=" "$D/installed" | head -1 | cut -d= -f2)
  if [ -n "$v" ]; then printf '%s\\tii \\t%s\\n' "$p" "$v"; else echo "dpkg-query: no packages found matching $p" >&2; fi
done
`;
  const apt = `#!/bin/sh
D=${dir}
echo "apt-get $*" >> "$D/log"
case "$1" in
  update) : > "$D/unknown"; exit 0 ;;
  install)
    for a in "$@"; do case "$a" in -*|install) ;; *)
      n=\${a%%=*}; if grep -qx "$n" "$D/unknown"; then echo "E: Unable to locate package $n"; exit 100; fi ;; esac; done
    for a in "$@"; do case "$a" in -*|install) ;; *)
      n=\${a%%=*}; v=\${a#*=}; [ "$v" = "$a" ] && v=1.0; grep -v "^$n=" "$D/installed" > "$D/i2"; echo "$n=$v" >> "$D/i2"; mv "$D/i2" "$D/installed" ;; esac; done ;;
  remove)
    for a in "$@"; do case "$a" in -*|remove) ;; *) grep -v "^$a=" "$D/installed" > "$D/i2"; mv "$D/i2" "$D/installed" ;; esac; done ;;
esac
`;
  writeFileSync(path.join(dir, 'dpkg-query'), dpkg);
  writeFileSync(path.join(dir, 'apt-get'), apt);
  chmodSync(path.join(dir, 'dpkg-query'), 0o755);
  chmodSync(path.join(dir, 'apt-get'), 0o755);
  return { dir, log: () => readFileSync(path.join(dir, 'log'), 'utf8').split('\n').filter(Boolean) };
}

function run(body: Record<string, unknown>, st: { dir: string }) {
  const s = spec(body);
  const change = { step: 0, kind: 'apt', id: aptResource.id(s), action: 'create' as const, reason: '', attrs: [], spec: s };
  return runFragment(aptResource.apply(change, sctx), { env: { PATH: `${st.dir}:${process.env.PATH}` } });
}

describe('apt apply fragment', () => {
  it('installs only what is missing, without update when the lists are fresh', () => {
    const st = stubs({ installed: ['socat=1.7'] });
    try {
      const r = run({ packages: ['haproxy', 'socat'], cache_max_age: 1e9 }, st);
      expect(r.status).toBe(0);
      expect(r.changed).toBe(true);
      expect(st.log()).toEqual([
        'apt-get install -y -q -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-confdef -- haproxy',
      ]);
      // Second run: the re-check finds everything installed, apt-get is not called.
      const again = run({ packages: ['haproxy', 'socat'], cache_max_age: 1e9 }, st);
      expect(again.status).toBe(0);
      expect(again.changed).toBe(false);
      expect(st.log()).toHaveLength(1);
    } finally {
      rmSync(st.dir, { recursive: true, force: true });
    }
  });

  it('updates first when the lists are older than cache_max_age', () => {
    const st = stubs({ installed: [] });
    try {
      const r = run({ packages: ['haproxy'], cache_max_age: 0 }, st);
      expect(r.status).toBe(0);
      expect(st.log().map((l) => l.split(' ')[1])).toEqual(['update', 'install']);
    } finally {
      rmSync(st.dir, { recursive: true, force: true });
    }
  });

  it('updates once and retries when a package is unknown', () => {
    const st = stubs({ installed: [], unknownUntilUpdate: ['consul'] });
    try {
      const r = run({ packages: ['consul'], cache_max_age: 1e9 }, st);
      expect(r.status).toBe(0);
      expect(st.log().map((l) => l.split(' ')[1])).toEqual(['install', 'update', 'install']);
    } finally {
      rmSync(st.dir, { recursive: true, force: true });
    }
  });

  it('fails with apt output on stderr when the package stays unknown', () => {
    const st = stubs({ installed: [] });
    try {
      writeFileSync(path.join(st.dir, 'apt-get'), `#!/bin/sh\necho "apt-get $*" >> ${st.dir}/log\n[ "$1" = update ] && exit 0\necho "E: Unable to locate package nope"; exit 100\n`);
      const r = run({ packages: ['nope'], cache_max_age: 1e9 }, st);
      expect(r.status).not.toBe(0);
      expect(r.changed).toBe(false);
      expect(r.stderr).toContain('E: Unable to locate package nope');
      expect(r.stderr).toContain('apt-get install failed: nope');
      expect(st.log().map((l) => l.split(' ')[1])).toEqual(['install', 'update', 'install']);
    } finally {
      rmSync(st.dir, { recursive: true, force: true });
    }
  });

  it('installs a pinned version when another one is installed, allowing downgrades', () => {
    const st = stubs({ installed: ['haproxy=2.8'] });
    try {
      const r = run({ packages: ['haproxy=2.6.12-1+deb12u2'], cache_max_age: 1e9 }, st);
      expect(r.status).toBe(0);
      expect(st.log()[0]).toMatch(/--allow-downgrades -- haproxy=2\.6\.12-1\+deb12u2$/);
      expect(run({ packages: ['haproxy=2.6.12-1+deb12u2'], cache_max_age: 1e9 }, st).changed).toBe(false);
    } finally {
      rmSync(st.dir, { recursive: true, force: true });
    }
  });

  it('removes installed packages only', () => {
    const st = stubs({ installed: ['haproxy=2.6'] });
    try {
      const r = run({ packages: ['haproxy', 'socat'], state: 'absent' }, st);
      expect(r.status).toBe(0);
      expect(r.changed).toBe(true);
      expect(st.log()).toEqual(['apt-get remove -y -q -- haproxy']);
      expect(run({ packages: ['haproxy', 'socat'], state: 'absent' }, st).changed).toBe(false);
    } finally {
      rmSync(st.dir, { recursive: true, force: true });
    }
  });
});
