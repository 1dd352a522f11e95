/**
 * Functions a reader can hold in mind: none in src/engine, src/config or src/compile spans
 * more than 60 lines (scripts/function-lengths.ts measures; run it to list them).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { functionSpans, LIMIT, longFunctions } from '../../scripts/function-lengths.js';

/** Exceptions and the length each may not grow past (none since buildApplyScript was split). */
const KNOWN: Record<string, number> = {};

describe('function lengths', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fnlen-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('measures every function form, nested ones too, by its whole span', () => {
    const file = path.join(dir, 'sample.ts');
    const body = (n: number) => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join('\n');
    writeFileSync(
      file,
      [
        `export function declared(): void {\n${body(3)}\n}`,
        `const arrow = (): void => {\n${body(1)}\n};`,
        `class K {\n  method(): void {\n    const inner = function (): void {\n${body(2)}\n    };\n  }\n}`,
      ].join('\n'),
    );
    const spans = functionSpans(file).map((f) => [f.name, f.line, f.lines]);
    expect(spans).toEqual([
      ['declared', 1, 5],
      ['arrow', 6, 3],
      ['method', 10, 6],
      ['inner', 11, 4],
    ]);
    expect(longFunctions([dir], 4).map((f) => f.name)).toEqual(['method', 'declared']);
  });

  it(`finds no function over ${LIMIT} lines in src/engine, src/config and src/compile but the known one, which does not grow`, () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const long = longFunctions(['src/engine', 'src/config', 'src/compile'].map((d) => path.join(root, d)));
    const found = long.map((f) => ({ fn: `${path.relative(root, f.file)} ${f.name}`, lines: f.lines }));
    for (const f of found) expect(f.lines, `${f.fn} is ${f.lines} lines long: split it into named phases`).toBeLessThanOrEqual(KNOWN[f.fn] ?? LIMIT);
  });
});
