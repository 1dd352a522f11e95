/**
 * Golden cases of step types, as data (pyinfra keeps its operation tests this way):
 * `test/unit/resources/<kind>/<case>.yaml` holds the step body (`spec`), the probed
 * `facts`, and what the step must make of them: `change` (action, reason, attrs) or `ok`
 * (the reason it has nothing to do). `<case>.sh` beside it is the exact apply fragment
 * for that change (cases in sync have none). The fragment runs with the fixed script
 * context of facts-fixture.ts (nonce `n0nce`, content inline as base64). A case with
 * `handler: true` and no facts pins the fragment the step runs as a notified handler
 * (`ResourceType.handler`); its YAML holds no `change`/`ok`.
 *
 * Facts in YAML, by kind (src/resources/facts/types.ts): `stat: { PATH: {type, mode,
 * owner, group, size, target} | null }`, `sha256: { PATH: HEX | {of: TEXT} | null }`
 * (`of`: the hash of TEXT), `content: { PATH: TEXT | null }`, `package`, `unit`,
 * `passwd`, `group`, `acl`, `shell: { ID: {exitCode} }`, `aptListsAge: SECONDS | null`,
 * `haproxy: { SOCKET: {servers_state: TEXT, backends: TEXT} | null }` (the admin socket's
 * answers to `show servers state` and `show backend`, as recorded; null: it does not answer).
 * Controller inputs for `prepare`: `templates: { SRC: RENDERED }`, `files: { SRC: TEXT }`,
 * `downloads: { URL: TEXT }`.
 *
 * Update mode: when generated shell changes on purpose, run
 *   UPDATE_GOLDEN=1 npx vitest run test/unit/resources/golden.test.ts
 * which rewrites every `.sh` and the `change`/`ok` of every `.yaml` (comments kept) from
 * the code as it is; then review `git diff test/unit/resources/` like code. Without
 * UPDATE_GOLDEN a difference fails the case.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { describeInSync } from '../../../src/resources/facts/describe.js';
import { emptyFacts, type Facts } from '../../../src/resources/facts/types.js';
import { parseBackendList, parseServerState } from '../../../src/resources/haproxy/server-state.js';
import { REGISTRY } from '../../../src/resources/registry.js';
import type { Change, PrepareContext, ResourceType } from '../../../src/resources/types.js';
import { sctx } from './facts-fixture.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === '1';

type Expected = { action: string; reason: string; attrs: Change['attrs'] };

/** YAML facts -> Facts (Maps, Buffers, `{of: TEXT}` hashes). */
export function factsFromYaml(raw: Record<string, unknown> = {}): Facts {
  const f = emptyFacts();
  for (const [kind, value] of Object.entries(raw)) {
    if (kind === 'aptListsAge') {
      f.aptListsAge = value as number | null;
      continue;
    }
    const map = (f as unknown as Record<string, Map<string, unknown> | undefined>)[kind];
    if (!(map instanceof Map)) throw new Error(`unknown fact kind \`${kind}\``);
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (kind === 'content') map.set(key, v === null ? null : Buffer.from(v as string, 'utf8'));
      else if (kind === 'haproxy' && v) map.set(key, { servers: parseServerState((v as Record<string, string>).servers_state!), backends: parseBackendList((v as Record<string, string>).backends!) });
      else if (kind === 'sha256' && v && typeof v === 'object') map.set(key, createHash('sha256').update((v as { of: string }).of).digest('hex'));
      else map.set(key, v);
    }
  }
  return f;
}

function prepareContext(c: { templates?: Record<string, string>; files?: Record<string, string>; downloads?: Record<string, string> }): PrepareContext {
  const missing = (what: string, name: string): never => {
    throw new Error(`the case names ${what} \`${name}\` that it does not give`);
  };
  return {
    host: 'golden',
    vars: {},
    renderTemplate: async (src) => c.templates?.[src] ?? missing('template', src),
    readSourceFile: async (src) => Buffer.from(c.files?.[src] ?? missing('file', src), 'utf8'),
    download: async (url) => Buffer.from(c.downloads?.[url] ?? missing('download', url), 'utf8'),
    containsSecret: () => false,
  };
}

interface Outcome {
  change: Expected | null;
  ok: string | null;
  script: string | null;
}

async function evaluate(type: ResourceType, c: Record<string, any>): Promise<Outcome> {
  const spec = type.schema.parse(c.spec);
  const problem = c.handler ? null : (type.check?.(spec) ?? null);
  if (problem) throw new Error(`the case's spec is refused: ${problem}`);
  const prepared = type.prepare ? await type.prepare(spec, prepareContext(c)) : spec;
  if (c.handler) {
    if (!type.handler) throw new Error(`${type.kind} steps cannot be handlers`);
    return { change: null, ok: null, script: `${type.handler(prepared, sctx)}\n` };
  }
  const facts = factsFromYaml(c.facts);
  const change = type.diff(prepared, facts, { step: 0, withContent: Boolean(c.with_content) });
  if (!change) return { change: null, ok: type.okReason?.(prepared, facts) ?? describeInSync(type.facts(prepared), facts), script: null };
  return { change: { action: change.action, reason: change.reason, attrs: change.attrs }, ok: null, script: `${type.apply(change, sctx)}\n` };
}

function update(file: string, shFile: string, got: Outcome): void {
  const doc = YAML.parseDocument(readFileSync(file, 'utf8'));
  doc.delete('change');
  doc.delete('ok');
  if (got.change) doc.set('change', got.change);
  else if (got.ok !== null) doc.set('ok', got.ok);
  writeFileSync(file, doc.toString({ lineWidth: 0 }));
  if (got.script !== null) writeFileSync(shFile, got.script);
  else rmSync(shFile, { force: true });
}

const kinds = readdirSync(HERE).filter((d) => REGISTRY.has(d) && statSync(path.join(HERE, d)).isDirectory());

describe('golden cases of step types (spec + facts -> change and fragment)', () => {
  it('cover at least the file-like, package, service, account and command types', () => {
    expect(kinds).toEqual(expect.arrayContaining(['file', 'directory', 'line', 'command', 'apt', 'service', 'user', 'group']));
  });

  for (const kind of kinds) {
    const dir = path.join(HERE, kind);
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
      it(`${kind}/${name.replace(/\.yaml$/, '')}`, async () => {
        const file = path.join(dir, name);
        const shFile = file.replace(/\.yaml$/, '.sh');
        const c = YAML.parse(readFileSync(file, 'utf8')) as Record<string, any>;
        const got = await evaluate(REGISTRY.get(kind)!, c);
        if (UPDATE) return update(file, shFile, got);
        expect({ change: got.change, ok: got.ok }).toEqual({ change: c.change ?? null, ok: c.ok ?? null });
        if (got.script === null) expect(existsSync(shFile), `${shFile} should not exist: the step is in sync`).toBe(false);
        else expect(got.script).toBe(readFileSync(shFile, 'utf8'));
      });
    }
  }
});
