/**
 * Functions longer than a reader can hold in mind. Lists every function, method and arrow
 * function under the given folders whose text spans more than LIMIT lines (its whole
 * span, nested functions included: that is what a reader has to read), longest first.
 *
 *   node --import tsx/esm scripts/function-lengths.ts [--limit 60] src/engine src/config
 *
 * Exit 1 when there is one. test/unit/function-lengths.test.ts holds src/engine and
 * src/config to the limit.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

export const LIMIT = 60;

export interface LongFunction {
  file: string;
  line: number;
  name: string;
  lines: number;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** A readable name: the declaration's own, or what it is assigned to, or `(anonymous)`. */
function nameOf(node: ts.FunctionLikeDeclaration, sf: ts.SourceFile): string {
  if (node.name) return node.name.getText(sf);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText(sf);
  if (ts.isCallExpression(parent)) return `(callback of ${parent.expression.getText(sf).slice(0, 40)})`;
  return '(anonymous)';
}

/** Every function-like node of one file with its span in lines. */
export function functionSpans(file: string): LongFunction[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out: LongFunction[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const fn = node as ts.FunctionLikeDeclaration;
      const start = sf.getLineAndCharacterOfPosition(fn.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(fn.getEnd()).line;
      out.push({ file, line: start + 1, name: nameOf(fn, sf), lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

export function longFunctions(dirs: string[], limit = LIMIT): LongFunction[] {
  return dirs
    .flatMap((d) => tsFiles(d))
    .flatMap((f) => functionSpans(f))
    .filter((f) => f.lines > limit)
    .sort((a, b) => b.lines - a.lines);
}

function main(argv: string[]): number {
  let limit = LIMIT;
  const dirs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--limit') limit = Number(argv[++i]);
    else dirs.push(argv[i]!);
  }
  const found = longFunctions(dirs.length ? dirs : ['src/engine', 'src/config'], limit);
  for (const f of found) console.log(`${f.lines}\t${f.file}:${f.line}\t${f.name}`);
  return found.length ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = main(process.argv.slice(2));
