/**
 * Jinja constructs nunjucks parses differently or not at all, found in the syntax tree
 * before anything renders, so that `validate` reports them with a position:
 *  - an unknown filter (nunjucks would only fail when the line runs), with the nearest
 *    known name;
 *  - `{% for x in xs if cond %}`: nunjucks reads `xs if cond` as an inline `if` without
 *    `else` and silently loops over nothing; the nunjucks way is a filter or an inner `if`.
 * (`.items()`, slices and `None` are supported: see jinja-syntax.ts.)
 */
import nunjucks from 'nunjucks';
import { ConfigError, type SourcePos } from './errors.js';
import { didYouMean } from './suggest.js';

interface Node {
  typename: string;
  fields: string[];
  lineno: number;
  colno: number;
  [field: string]: unknown;
}

/** A problem at a 1-based line and column of the template source. */
export interface CompatIssue {
  line: number;
  col: number;
  problem: string;
  hint: string;
}

const parser = (nunjucks as unknown as { parser: { parse(src: string, extensions?: unknown[], opts?: object): Node } }).parser;

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && typeof (v as Node).typename === 'string';

function symbolName(v: unknown): string | undefined {
  return isNode(v) && v.typename === 'Symbol' && typeof v.value === 'string' ? v.value : undefined;
}

/** Problems in `source`, in source order; none for a template that does not parse (rendering says why). */
export function jinjaCompatIssues(source: string, knownFilters: readonly string[]): CompatIssue[] {
  let root: Node;
  try {
    root = parser.parse(source, [], {});
  } catch {
    return [];
  }
  const out: CompatIssue[] = [];
  const at = (n: Node) => ({ line: n.lineno + 1, col: n.colno + 1 });
  const visit = (node: Node): void => {
    if ((node.typename === 'Filter' || node.typename === 'FilterAsync') && isNode(node.name)) {
      const name = symbolName(node.name) ?? String((node.name as Node).value ?? '');
      if (!knownFilters.includes(name)) {
        out.push({ ...at(node.name), problem: `unknown filter \`${name}\``, hint: didYouMean(name, [...knownFilters]) ?? 'see "Coming from Ansible" in README.md for the filters provision has' });
      }
    }
    if (node.typename === 'For' && isNode(node.arr) && node.arr.typename === 'InlineIf' && !node.arr.else_) {
      out.push({
        ...at(node),
        problem: 'nunjucks cannot filter a loop with `for ... in ... if ...` (Jinja only); it would loop over nothing',
        hint: "filter the list instead, e.g. `{% for x in xs | selectattr('enabled') %}` or `| select(...)`, or put `{% if %}` inside the loop (then `loop.index` counts every item)",
      });
    }
    for (const f of node.fields) {
      const v = node[f];
      if (Array.isArray(v)) v.forEach((c) => isNode(c) && visit(c));
      else if (isNode(v)) visit(v);
    }
  };
  visit(root);
  return out;
}

/** Checks each template once per run; the first issue becomes a ConfigError at its position. */
export class JinjaCompat {
  private readonly seen = new Map<string, CompatIssue | null>();
  constructor(private readonly knownFilters: () => readonly string[]) {}

  check(key: string, source: () => string | undefined, toPos: (line: number, col: number) => SourcePos | undefined): void {
    let issue = this.seen.get(key);
    if (issue === undefined) {
      const text = source();
      issue = text === undefined ? null : (jinjaCompatIssues(text, this.knownFilters())[0] ?? null);
      this.seen.set(key, issue);
    }
    if (issue) throw new ConfigError(issue.problem, toPos(issue.line, issue.col), issue.hint);
  }
}

/** nunjucks' own "filter not found: x" (from an included template) said the same way. */
export function unknownFilterError(message: string, knownFilters: readonly string[]): { problem: string; hint: string } | undefined {
  const m = /filter not found: ([\w.]+)/.exec(message);
  if (!m) return undefined;
  return { problem: `unknown filter \`${m[1]}\``, hint: didYouMean(m[1]!, [...knownFilters]) ?? 'see "Coming from Ansible" in README.md for the filters provision has' };
}
