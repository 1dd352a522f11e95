/**
 * nunjucks with the settings config files need: undefined output is an error
 * (`throwOnUndefined`), and so is reading an undefined variable anywhere else (`if`, `for`,
 * a filter's argument: checked before rendering, see template-names.ts), no HTML
 * escaping, Jinja-like whitespace control. Every failure
 * becomes a ConfigError naming the template file, line, column and, for undefined
 * values, the variable. Extra filters: `quote` (POSIX shell), `to_json`, `b64encode`.
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import nunjucks from 'nunjucks';
import { ConfigError, type SourcePos } from './errors.js';
import { displayPath } from './paths.js';
import { shellQuote } from './shell-quote.js';
import { didYouMean } from './suggest.js';
import { readProblem } from './read-text.js';
import { decodeUtf8 } from './utf8.js';
import { findMissingAttr } from './template-attrs.js';
import { templateNames, type AttrFacts, type ChainUse, type NameUse, type TemplateRef } from './template-names.js';

type Path = (string | number)[];

/** A name a template reads, with where to point an error at. */
interface Read extends NameUse {
  pos: SourcePos | undefined;
  /** For a `when`-style expression: the expression, quoted in the error. */
  expr?: string | undefined;
  /** An attribute chain a `for` iterates (template-attrs.ts), not a top-level read. */
  attr?: { facts: AttrFacts; use: ChainUse };
}

/** `{{ expr }}` and nothing else: its value is kept as is (lists, numbers, maps). */
const SINGLE_EXPR = /^\s*\{\{((?:(?!\{\{|\}\})[\s\S])*)\}\}\s*$/;
const CAPTURE = '__provision_capture';

/** Thrown inside a render when an evaluated expression is undefined. */
const UNDEFINED_MARK = '__provision_undefined_value__';
class UndefinedValue extends Error {
  constructor() {
    super(UNDEFINED_MARK);
  }
}

export class TemplateEngine {
  readonly templatesDir: string;
  private readonly env: nunjucks.Environment;
  /** Set by the capture global during `evaluate` (renders are synchronous). */
  private captured: { value: unknown } | undefined;

  constructor(templatesDir: string) {
    this.templatesDir = path.resolve(templatesDir);
    this.env = new nunjucks.Environment(new nunjucks.FileSystemLoader(this.templatesDir), {
      throwOnUndefined: true,
      autoescape: false,
      trimBlocks: true,
      lstripBlocks: true,
    });
    this.env.addFilter('quote', (v: unknown) => shellQuote(v === null || v === undefined ? '' : String(v)));
    this.env.addFilter('to_json', (v: unknown, indent?: number) => JSON.stringify(v, null, indent));
    this.env.addFilter('b64encode', (v: unknown) => Buffer.from(String(v), 'utf8').toString('base64'));
    this.env.addGlobal(CAPTURE, (value: unknown) => {
      if (value === undefined) throw new UndefinedValue();
      this.captured = { value };
      return '';
    });
  }

  renderFile(name: string, vars: object, pos?: SourcePos): string {
    const file = path.resolve(this.templatesDir, name);
    const problem = existsSync(file) ? unreadable(file) : undefined;
    if (problem) throw new ConfigError(`template \`${name}\` (${displayPath(file)}) ${problem}`, pos);
    this.checkReads(this.fileReads(name), vars);
    try {
      return this.env.render(name, vars);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (/^template not found/.test(message)) {
        throw new ConfigError(`template \`${name}\` not found in ${displayPath(this.templatesDir)}`, pos, this.missingHint(name));
      }
      throw this.toConfigError(err, { file: displayPath(file), line: 1, col: 1 }, () => readSource(file), pos, true);
    }
  }

  /** Why a template name found nothing: it leaves the templates dir, or a close name exists. */
  private missingHint(name: string): string | undefined {
    if (path.isAbsolute(name) || name.split(/[\\/]/).includes('..')) return 'a template name is a path inside the templates directory';
    let names: string[] = [];
    try {
      names = readdirSync(this.templatesDir, { recursive: true, encoding: 'utf8' }).map((n) => n.split(path.sep).join('/'));
    } catch {
      /* no templates directory: nothing to suggest */
    }
    return didYouMean(name, names);
  }

  /**
   * One engine serves one run: template files (the loader's cache) and inline strings are
   * compiled once, not once per host (300 compiles at 50 hosts otherwise).
   */
  private readonly inline = new Map<string, nunjucks.Template>();
  private compiled(text: string): nunjucks.Template {
    let t = this.inline.get(text);
    if (!t) this.inline.set(text, (t = nunjucks.compile(text, this.env)));
    return t;
  }

  renderString(text: string, vars: object, pos?: SourcePos): string {
    this.checkReads(this.stringReads(text, pos), vars);
    try {
      return this.compiled(text).render(vars);
    } catch (err) {
      throw this.toConfigError(err, pos, () => text, pos, false);
    }
  }

  /** Value of a nunjucks expression (no braces): `backends | length > 0` -> true. */
  evaluate(expr: string, vars: object, pos?: SourcePos): unknown {
    this.checkReads(this.stringReads(`{{ ${CAPTURE}((${expr})) }}`, pos, expr), vars);
    this.captured = undefined;
    try {
      this.compiled(`{{ ${CAPTURE}((${expr})) }}`).render(vars);
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      if (err instanceof UndefinedValue || text.includes(UNDEFINED_MARK) || text.includes('attempted to output null or undefined')) {
        throw new ConfigError(`\`${expr.trim()}\` is undefined`, pos, undefinedHint(expr));
      }
      const e = this.toConfigError(err, pos, () => expr, pos, false);
      throw new ConfigError(`in expression \`${expr.trim()}\`: ${e.problem}`, pos, e.hint);
    }
    const out = this.captured as { value: unknown } | undefined;
    this.captured = undefined;
    return out?.value;
  }

  /**
   * Names each template reads, at their first use, cached for the run. A template that
   * does not parse reads nothing here: rendering it reports the syntax error.
   */
  private readonly reads = new Map<string, Read[]>();

  private fileReads(name: string, seen = new Set<string>()): Read[] {
    const cached = this.reads.get(`file:${name}`);
    if (cached) return cached;
    seen.add(name);
    const file = path.resolve(this.templatesDir, name);
    const source = readSource(file);
    const out: Read[] = [];
    const names = source === undefined ? undefined : this.names(source);
    if (names) {
      this.checkRefs(names.refs, displayPath(file));
      for (const u of names.reads) out.push({ ...u, pos: { file: displayPath(file), line: u.line, col: u.col } });
      for (const use of names.attrs.iterated) out.push({ name: use.chain[0]!, line: use.line, col: use.col, pos: { file: displayPath(file), line: use.line, col: use.col }, attr: { facts: names.attrs, use } });
      // An included template reads the same context.
      for (const inc of names.includes) if (!seen.has(inc)) out.push(...this.fileReads(inc, seen));
    }
    this.reads.set(`file:${name}`, out);
    return out;
  }

  /** Every literal `{% include %}`/`{% extends %}` target exists: else an error where it is written. */
  private checkRefs(refs: TemplateRef[], shownFile: string): void {
    for (const r of refs) {
      const target = path.resolve(this.templatesDir, r.name);
      if (existsSync(target)) continue;
      const where = { file: shownFile, line: r.line, col: r.col };
      throw new ConfigError(`${r.tag === 'include' ? 'included' : 'base'} template \`${r.name}\` not found in ${displayPath(this.templatesDir)}`, where, this.missingHint(r.name) ?? 'names are relative to the templates directory');
    }
  }

  private stringReads(text: string, base: SourcePos | undefined, expr?: string): Read[] {
    const key = `string:${base ? `${base.file}:${base.line}:${base.col}` : ''}:${text}`;
    let out = this.reads.get(key);
    if (!out) {
      out = (this.names(text)?.reads ?? []).map((u) => ({
        ...u,
        expr,
        // A string's lines are relative to where it sits in its YAML file.
        pos: base && !expr ? (u.line > 1 ? { file: base.file, line: base.line + u.line - 1, col: u.col } : { file: base.file, line: base.line, col: base.col + u.col - 1 }) : base,
      }));
      this.reads.set(key, out);
    }
    return out;
  }

  private names(source: string): ReturnType<typeof templateNames> | undefined {
    try {
      return templateNames(source, [CAPTURE]);
    } catch {
      return undefined;
    }
  }

  /** The first name a template reads that `vars` does not define is an error, wherever it is read. */
  private checkReads(reads: Read[], vars: object): void {
    const missing = reads.find((r) => !r.attr && !(r.name in vars));
    if (!missing) return checkAttrs(reads, vars as Record<string, unknown>);
    const known = Object.keys(vars);
    const hint = didYouMean(missing.name, known) ?? undefinedHint(missing.name);
    const where = missing.expr !== undefined && missing.expr.trim() !== missing.name ? ` in \`${missing.expr.trim()}\`` : '';
    throw new ConfigError(`undefined variable \`${missing.name}\`${where}`, missing.pos, hint);
  }

  /** Renders every string inside `value`; `"{{ expr }}"` alone keeps the expression's type. */
  renderValue(value: unknown, vars: object, posOf: (path: Path) => SourcePos, at: Path = []): unknown {
    if (typeof value === 'string') {
      if (!value.includes('{{') && !value.includes('{%')) return value;
      const single = SINGLE_EXPR.exec(value);
      if (single) return this.evaluate(single[1]!, vars, posOf(at));
      return this.renderString(value, vars, posOf(at));
    }
    if (Array.isArray(value)) return value.map((v, i) => this.renderValue(v, vars, posOf, [...at, i]));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.renderValue(v, vars, posOf, [...at, k]);
      return out;
    }
    return value;
  }

  /**
   * nunjucks errors carry `[Line N, Column M]` in their message only. The line is relative
   * to the template; for a string from a YAML file it is shifted to the file's position.
   */
  private toConfigError(err: unknown, base: SourcePos | undefined, source: () => string | undefined, fallback: SourcePos | undefined, isFile: boolean): ConfigError {
    if (err instanceof UndefinedValue) return new ConfigError('undefined value', fallback);
    const message = err instanceof Error ? err.message : String(err);
    const m = /\[Line (\d+), Column (\d+)\]/.exec(message);
    let problem = message
      .replace(/^\([^)]*\)\s*(\[Line \d+, Column \d+\])?\s*/, '')
      .replace(/^(Template render error:\s*)?(Error:\s*)?/, '')
      .split('\n')[0]!
      .trim();
    let hint: string | undefined;
    let pos: SourcePos | undefined;
    if (m && base) {
      const line = Number(m[1]);
      const col = Number(m[2]);
      if (isFile) pos = { file: base.file, line, col };
      else pos = line > 1 ? { file: base.file, line: base.line + line - 1, col } : { file: base.file, line: base.line, col: base.col + col - 1 };
    } else if (isFile) {
      // No line from nunjucks: point at the step that uses the template and name the file.
      pos = fallback ?? base;
      if (fallback && base) problem = `in template ${base.file}: ${problem}`;
    } else pos = fallback;
    if (/attempted to output null or undefined value/.test(message)) {
      const expr = m ? expressionAt(source(), Number(m[1]), Number(m[2])) : undefined;
      const name = expr ? /^[A-Za-z_][\w.]*/.exec(expr)?.[0] : undefined;
      problem = name ? `undefined variable \`${name}\`` : 'undefined value';
      hint = expr && name !== expr ? `in \`{{ ${expr} }}\`` : undefinedHint(name ?? '');
    } else if (/expected|unexpected|unknown block|parse|unterminated/i.test(problem)) {
      problem = `template syntax error: ${problem}`;
    }
    return new ConfigError(problem, pos, hint);
  }
}

/** The first iterated attribute that no object of the vars has: an error at its use. */
function checkAttrs(reads: Read[], vars: Record<string, unknown>): void {
  for (const r of reads) {
    if (!r.attr) continue;
    const miss = findMissingAttr({ ...r.attr.facts, iterated: [r.attr.use] }, vars);
    if (!miss) continue;
    const hint = didYouMean(miss.key, miss.known) ?? (miss.known.length ? `\`${miss.owner}\` has: ${miss.known.join(', ')}` : undefined);
    throw new ConfigError(`undefined attribute \`${miss.key}\` of \`${miss.owner}\``, r.pos, hint);
  }
}

function undefinedHint(expr: string): string | undefined {
  return expr.includes('.') ? 'check every part of the path exists, or use `| default(...)`' : 'define it in the inventory or the playbook vars, or use `| default(...)`';
}

/** The text inside the `{{ ... }}` that starts at 1-based line/col (nunjucks' output position). */
function expressionAt(text: string | undefined, line: number, col: number): string | undefined {
  const lineText = text?.split('\n')[line - 1];
  if (lineText === undefined) return undefined;
  const open = lineText.lastIndexOf('{{', Math.max(0, col - 1));
  const start = open === -1 ? lineText.indexOf('{{') : open;
  if (start === -1) return undefined;
  const end = lineText.indexOf('}}', start);
  return lineText.slice(start + 2, end === -1 ? undefined : end).replace(/^-|-$/g, '').trim();
}

/** Why an existing template file cannot be read, in words (not EISDIR/EACCES); undefined when it can. */
function unreadable(file: string): string | undefined {
  try {
    if (statSync(file).isDirectory()) return readProblem({ code: 'EISDIR' });
    accessSync(file, constants.R_OK);
    return undefined;
  } catch (err) {
    return readProblem(err);
  }
}

/** A template's text, strictly UTF-8 (ConfigError at the first bad byte); undefined when it cannot be read. */
function readSource(file: string): string | undefined {
  let data: Buffer;
  try {
    // Synchronous like nunjucks' own loader, which reads the same file again (leniently).
    data = readFileSync(file);
  } catch {
    return undefined;
  }
  return decodeUtf8(data, displayPath(file), 'template');
}
