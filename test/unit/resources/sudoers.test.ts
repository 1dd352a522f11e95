import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sudoersManaged, sudoersResource, VISUDO_VALIDATE, type SudoersSpec } from '../../../src/resources/sudoers.js';
import { sha256, type ManagedFile } from '../../../src/resources/file-common.js';
import type { PrepareContext } from '../../../src/resources/types.js';
import { dctx, facts, sctx } from './facts-fixture.js';
import { isRoot, runFragment, sh } from './run-sh.js';

const spec = (body: Record<string, unknown>): SudoersSpec => sudoersResource.schema.parse(body);
const GOOD = 'consul ALL=(root) NOPASSWD: /usr/bin/systemctl reload haproxy.service\n';
const BAD = 'consul ALL=(root NOPASSWD /usr/bin/systemctl\n';

describe('sudoers schema', () => {
  it.each([
    ['consul.conf', /must not contain '\.'.*silently ignores/],
    ['consul~', /must not end in '~'.*silently ignores/],
    ['a b', /letters, digits/],
    ['../x', /not a path: no `\/`/],
    ['a/b', /not a path: no `\/`/],
  ])('rejects %j', (name, message) => {
    const r = sudoersResource.schema.safeParse({ name, content: GOOD });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(message);
  });
  it('accepts names sudo reads, and needs exactly one of content/src', () => {
    expect(spec({ name: 'consul-template_reload', content: GOOD }).state).toBe('present');
    expect(sudoersResource.check!(spec({ name: 'x' }))).toMatch(/exactly one/);
    expect(sudoersResource.check!(spec({ name: 'x', content: GOOD }))).toBeNull();
  });
});

describe('sudoers managed file, facts, diff, prepare', () => {
  it('is 0440 root:root, validated by visudo', () => {
    expect(sudoersManaged(spec({ name: 'consul', content: GOOD }))).toEqual({
      dest: '/etc/sudoers.d/consul', content: Buffer.from(GOOD), mode: '0440', owner: 'root', group: 'root', validate: VISUDO_VALIDATE, state: 'present',
    });
    expect(sudoersResource.id(spec({ name: 'consul', content: GOOD }))).toBe('sudoers /etc/sudoers.d/consul');
    expect(sudoersResource.facts(spec({ name: 'consul', content: GOOD }))).toEqual([
      { kind: 'stat', path: '/etc/sudoers.d/consul' },
      { kind: 'sha256', path: '/etc/sudoers.d/consul' },
    ]);
  });
  it('diffs content and mode', () => {
    const d = '/etc/sudoers.d/consul';
    const st = (mode: string) => ({ type: 'f', mode, owner: 'root', group: 'root', size: 1, target: null });
    const s = spec({ name: 'consul', content: GOOD });
    expect(sudoersResource.diff(s, facts({}), dctx)?.reason).toBe('does not exist');
    expect(sudoersResource.diff(s, facts({ stat: new Map([[d, st('0440')]]), sha256: new Map([[d, sha256(GOOD)]]) }), dctx)).toBeNull();
    expect(sudoersResource.diff(s, facts({ stat: new Map([[d, st('0644')]]), sha256: new Map([[d, sha256(GOOD)]]) }), dctx)?.reason).toBe('mode differs');
  });
  it('renders src', async () => {
    const ctx = { renderTemplate: async () => GOOD } as unknown as PrepareContext;
    expect(await sudoersResource.prepare!(spec({ name: 'consul', src: 'sudoers.j2' }), ctx)).toEqual({ name: 'consul', content: GOOD, state: 'present' });
  });
});

describe.runIf(isRoot)('sudoers validation with the real visudo', () => {
  it('visudo -cf accepts good and rejects bad content', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'prov-sudo-'));
    try {
      for (const [content, ok] of [[GOOD, true], [BAD, false]] as const) {
        const f = path.join(dir, ok ? 'good' : 'bad');
        writeFileSync(f, content, { mode: 0o440 });
        expect(sh(VISUDO_VALIDATE.replace('%s', f)).status === 0).toBe(ok);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the fragment installs valid content 0440 and never installs invalid content', () => {
    const dir = mkdtempSync(path.join(tmpdir(), "prov-sudo 'x"));
    try {
      const dest = path.join(dir, 'consul');
      const at = (content: string) => {
        const ch = sudoersResource.diff(spec({ name: 'consul', content }), facts({}), dctx)!;
        return { ...ch, spec: { ...(ch.spec as ManagedFile), dest } };
      };
      const ok = runFragment(sudoersResource.apply(at(GOOD), sctx));
      expect(ok).toMatchObject({ status: 0, changed: true });
      expect(readFileSync(dest, 'utf8')).toBe(GOOD);
      expect(statSync(dest).mode & 0o777).toBe(0o440);
      const bad = runFragment(sudoersResource.apply(at(BAD), sctx));
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toContain('syntax error');
      expect(bad.stderr).toContain(`validation failed for ${dest}`);
      expect(readFileSync(dest, 'utf8')).toBe(GOOD);
      expect(sh(`ls -A '${dir.replace(/'/g, `'\\''`)}'`).stdout.trim()).toBe('consul');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
