/**
 * The variables a nunjucks template reads from its context, found in its syntax tree.
 * nunjucks' `throwOnUndefined` only catches an undefined value that is output: a typo in
 * `{% for b in backned %}` or `{% if maintenance_mdoe %}` renders nothing and no error.
 * Ansible (Jinja's StrictUndefined) refuses both; so do we, before anything renders.
 *
 * Deliberately lenient where a static view cannot be sure, so that no valid template is
 * refused: a name bound anywhere in the template (`set`, a loop variable, a macro or its
 * arguments, an import) counts as bound everywhere, and a name guarded anywhere
 * (`x is defined`, `x is undefined`, `x | default(...)`) may be used anywhere. Top-level
 * names are checked everywhere; attributes are checked where a `for` iterates them
 * (template-attrs.ts), and caught by nunjucks when output (`{{ b.port }}`).
 */
import nunjucks from 'nunjucks';

interface Node {
  typename: string;
  fields: string[];
  lineno: number;
  colno: number;
  value?: unknown;
  [field: string]: unknown;
}

/** A top-level name the template reads, at its first use (1-based line and column). */
export interface NameUse {
  name: string;
  line: number;
  col: number;
}

export interface TemplateNames {
  /** Free names, each at its first unguarded use. */
  reads: NameUse[];
  /** Literal names of included templates (`{% include "x.j2" %}`): they read the same context. */
  includes: string[];
  /** Attribute chains iterated by `for`, the loop names they bind, and guarded chains (template-attrs.ts). */
  attrs: AttrFacts;
  /** Literal `{% include %}` (unless `ignore missing`) and `{% extends %}` targets, where written. */
  refs: TemplateRef[];
}

export interface TemplateRef {
  tag: 'include' | 'extends';
  name: string;
  line: number;
  col: number;
}

/** `{% for o in b.options %}` at a position: the chain `['b', 'options']`. */
export interface ChainUse {
  chain: string[];
  line: number;
  col: number;
}

export interface AttrFacts {
  iterated: ChainUse[];
  /** `{% for b in backends %}`: b -> ['backends'], for names bound exactly once in the template. */
  loopSources: Map<string, string[]>;
  /** Chains tested (`if x.y`, `x.y is defined`, `x.y | default`): may be missing anywhere. */
  guarded: Set<string>;
  /** Every name the template binds (loops, `set`, macros): not the vars of the same name. */
  bound: Set<string>;
}

/** Names nunjucks itself provides inside a render. */
const BUILTINS = new Set(['range', 'cycler', 'joiner', 'loop', 'caller', 'super', 'true', 'false', 'none', 'True', 'False', 'None']);
const GUARD_TESTS = new Set(['defined', 'undefined']);
const GUARD_FILTERS = new Set(['default', 'd']);

const parser = (nunjucks as unknown as { parser: { parse(src: string, extensions?: unknown[], opts?: object): Node } }).parser;

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && typeof (v as Node).typename === 'string';
}

function symbolName(v: unknown): string | undefined {
  return isNode(v) && v.typename === 'Symbol' && typeof v.value === 'string' ? v.value : undefined;
}

/** `a.b["c"]` as ['a', 'b', 'c'] with the last key's node, when the whole chain is literal. */
function chainOf(v: unknown): { chain: string[]; last: Node } | undefined {
  const n = symbolName(v);
  if (n) return { chain: [n], last: v as Node };
  if (!isNode(v) || v.typename !== 'LookupVal' || !isNode(v.val) || v.val.typename !== 'Literal' || typeof v.val.value !== 'string') return undefined;
  const inner = chainOf(v.target);
  return inner && { chain: [...inner.chain, v.val.value], last: v.val };
}

/** The chains an `if` condition tests for truthiness (`a.b`, `not a.b`, `a.b and c.d`). */
function testedChains(cond: unknown, out: Set<string>): void {
  const c = chainOf(cond);
  if (c) out.add(c.chain.join('.'));
  else if (isNode(cond) && (cond.typename === 'And' || cond.typename === 'Or')) {
    testedChains(cond.left, out);
    testedChains(cond.right, out);
  } else if (isNode(cond) && cond.typename === 'Not') testedChains(cond.target, out);
}

/** Parses `source` (throws nunjucks' own syntax error) and lists what it reads. */
export function templateNames(source: string, extraGlobals: Iterable<string> = []): TemplateNames {
  const walk = new NameWalk([...BUILTINS, ...extraGlobals]);
  walk.visit(parser.parse(source, [], {}));
  const { bound, guarded, attrs, bindings } = walk;
  const seen = new Set<string>();
  const reads = walk.uses.filter((u) => {
    if (bound.has(u.name) || guarded.has(u.name) || seen.has(u.name)) return false;
    seen.add(u.name);
    return true;
  });
  // A loop name bound twice (two loops, a `set`) has no one source: not followed.
  for (const [n, count] of bindings) if (count > 1) attrs.loopSources.delete(n);
  for (const n of bindings.keys()) attrs.bound.add(n);
  return { reads, includes: walk.includes, attrs, refs: walk.refs };
}

/** Fields that bind names (loop vars, `set` targets, macro args, import targets): not reads. */
function bindsField(typename: string, f: string): boolean {
  if ((typename === 'For' || typename === 'AsyncEach' || typename === 'AsyncAll') && f === 'name') return true;
  if (typename === 'Set' && f === 'targets') return true;
  // A macro's arguments (and their defaults) are bound names, not reads.
  if ((typename === 'Macro' || typename === 'Caller') && (f === 'name' || f === 'args')) return true;
  return typename === 'Import' && f === 'target';
}

/** One walk over a template's tree: the names it reads, binds and guards, and what it includes. */
class NameWalk {
  readonly bound: Set<string>;
  readonly guarded = new Set<string>();
  readonly uses: NameUse[] = [];
  readonly includes: string[] = [];
  readonly refs: TemplateRef[] = [];
  readonly attrs: AttrFacts = { iterated: [], loopSources: new Map(), guarded: new Set(), bound: new Set() };
  /** How many times each name is bound. */
  readonly bindings = new Map<string, number>();

  constructor(globals: string[]) {
    this.bound = new Set(globals);
  }

  readonly visit = (node: Node): void => {
    if (this.visitWhole(node)) return;
    this.noteBinding(node);
    // Binding positions are handled by noteBinding; their names are not reads.
    for (const f of node.fields) if (!bindsField(node.typename, f)) each(node[f], this.visit);
  };

  readonly bindTargets = (v: unknown): void => {
    const n = symbolName(v);
    if (n) this.bindings.set(n, (this.bindings.get(n) ?? 0) + 1);
    if (n) this.bound.add(n);
    else if (isNode(v)) for (const f of v.fields) each(v[f], this.bindTargets);
  };

  /** Nodes whose children are walked here, not field by field; false for the others. */
  private visitWhole(node: Node): boolean {
    switch (node.typename) {
      case 'Symbol':
        if (typeof node.value === 'string') this.uses.push({ name: node.value, line: node.lineno + 1, col: node.colno + 1 });
        return true;
      case 'Pair':
        // A dict key or a keyword argument's name is not a lookup.
        if (!symbolName(node.key) && isNode(node.key)) this.visit(node.key);
        each(node.value, this.visit);
        return true;
      case 'Filter':
      case 'FilterAsync':
        this.filter(node);
        return true;
      case 'Is':
        this.isTest(node);
        return true;
      case 'FromImport':
        for (const n of ((node.names as Node | undefined)?.children as unknown[]) ?? []) {
          // `from "m" import a as b`: a Pair(a, b); plain `import a`: a Symbol.
          if (isNode(n) && n.typename === 'Pair') this.bindTargets(n.value);
          else this.bindTargets(n);
        }
        return true;
      case 'Block':
        // A block's name is a label, not a variable.
        each(node.body, this.visit);
        return true;
      case 'KeywordArgs':
        for (const f of node.fields) each(node[f], this.visit);
        return true;
    }
    return false;
  }

  /** The filter's name is not a variable; `x | default(...)` guards x. */
  private filter(node: Node): void {
    const args = node.args as Node | undefined;
    const first = (args?.children as unknown[] | undefined)?.[0];
    const target = symbolName(first);
    if (target && GUARD_FILTERS.has(symbolName(node.name) ?? '')) this.guarded.add(target);
    const chain = chainOf(first);
    if (chain && GUARD_FILTERS.has(symbolName(node.name) ?? '')) this.attrs.guarded.add(chain.chain.join('.'));
    each(node.args, this.visit);
  }

  /** `x is defined` guards x; the test's name is not a variable, its arguments are. */
  private isTest(node: Node): void {
    const test = symbolName(node.right) ?? symbolName(isNode(node.right) ? node.right.name : undefined);
    const target = symbolName(node.left);
    const chain = chainOf(node.left);
    if (chain && test && GUARD_TESTS.has(test)) this.attrs.guarded.add(chain.chain.join('.'));
    if (target && test && GUARD_TESTS.has(test)) this.guarded.add(target);
    else each(node.left, this.visit);
    if (isNode(node.right) && node.right.typename !== 'Symbol') each(node.right.args, this.visit);
  }

  /** What a node binds, guards or includes; its other fields are then walked as reads. */
  private noteBinding(node: Node): void {
    switch (node.typename) {
      case 'For':
      case 'AsyncEach':
      case 'AsyncAll': {
        this.bindTargets(node.name);
        const src = chainOf(node.arr);
        if (src && src.chain.length > 1) this.attrs.iterated.push({ chain: src.chain, line: src.last.lineno + 1, col: src.last.colno + 1 });
        const n = symbolName(node.name);
        if (n && src) this.attrs.loopSources.set(n, src.chain);
        return;
      }
      case 'If':
      case 'IfAsync':
        return testedChains(node.cond, this.attrs.guarded);
      case 'Set':
        for (const t of (node.targets as unknown[]) ?? []) this.bindTargets(t);
        return;
      case 'Macro':
      case 'Caller':
        this.bindTargets(node.name);
        this.bindTargets(node.args);
        return;
      case 'Import':
        return this.bindTargets(node.target);
      case 'Include':
      case 'Extends':
        return this.include(node);
    }
  }

  private include(node: Node): void {
    const t = node.template;
    if (isNode(t) && t.typename === 'Literal' && typeof t.value === 'string') {
      if (node.typename === 'Include') this.includes.push(t.value);
      if (!node.ignoreMissing) this.refs.push({ tag: node.typename === 'Include' ? 'include' : 'extends', name: t.value, line: t.lineno + 1, col: t.colno + 1 });
    }
  }
}

function each(v: unknown, fn: (n: Node) => void): void {
  if (Array.isArray(v)) for (const c of v) each(c, fn);
  else if (isNode(v)) fn(v);
}
