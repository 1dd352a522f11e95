import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { attributesResource, type AttributesSpec } from '../../../src/resources/attributes.js';
import type { PathStat } from '../../../src/resources/facts/types.js';
import { dctx, facts, sctx } from './facts-fixture.js';
import { runFragment } from './run-sh.js';

const spec = (body: Record<string, unknown>): AttributesSpec => attributesResource.schema.parse(body);
const stats = (m: Record<string, PathStat | null>) => facts({ stat: new Map(Object.entries(m)) });

describe('attributes step', () => {
  it('needs at least one attribute and probes the path with every other stat', () => {
    expect(attributesResource.check!(spec({ path: '/etc/x' }))).toMatch(/at least one of `mode`, `owner`, `group`/);
    expect(attributesResource.check!(spec({ path: '/etc/x', mode: '0640' }))).toBeNull();
    expect(attributesResource.facts(spec({ path: '/etc/x', mode: '0640' }))).toEqual([{ kind: 'stat', path: '/etc/x' }]);
  });

  it('diffs only the attributes it manages', () => {
    const have = { type: 'f', mode: '644', owner: 'root', group: 'root' } as PathStat;
    expect(attributesResource.diff(spec({ path: '/etc/x', owner: 'root' }), stats({ '/etc/x': have }), dctx)).toBeNull();
    expect(attributesResource.diff(spec({ path: '/etc/x', mode: '0640', group: 'adm' }), stats({ '/etc/x': have }), dctx)).toMatchObject({
      action: 'update',
      reason: 'mode differs, group differs',
      attrs: [
        { field: 'mode', before: '644', after: '0640' },
        { field: 'group', before: 'root', after: 'adm' },
      ],
    });
    // Missing at probe time: an earlier step may create it; the apply re-checks.
    expect(attributesResource.diff(spec({ path: '/etc/x', mode: '0640' }), stats({ '/etc/x': null }), dctx)).toMatchObject({ action: 'update', reason: /does not exist yet/ });
  });

  it('changes the mode of an existing file on a real shell, once; fails naming a missing path', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'attrs-'));
    try {
      const f = path.join(dir, "a file's");
      writeFileSync(f, 'x', { mode: 0o644 });
      const change = (s: AttributesSpec) => ({ step: 0, kind: 'attributes', id: '', action: 'update' as const, reason: '', attrs: [], spec: s });
      const first = runFragment(attributesResource.apply(change(spec({ path: f, mode: '0600' })), sctx));
      expect([first.status, first.changed]).toEqual([0, true]);
      expect(statSync(f).mode & 0o777).toBe(0o600);
      const again = runFragment(attributesResource.apply(change(spec({ path: f, mode: '0600' })), sctx));
      expect([again.status, again.changed]).toEqual([0, false]);
      const missing = runFragment(attributesResource.apply(change(spec({ path: `${dir}/nope`, mode: '0600' })), sctx));
      expect(missing.status).toBe(1);
      expect(missing.stderr).toContain(`${dir}/nope does not exist (attributes manage an existing path)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
