/**
 * Vars whose values hold templates, rendered the way Ansible does: lazily (when a template,
 * a step body or another var reads them), recursively (a var built from vars built from
 * vars), once per context, with cycles refused by name. Without this a var such as
 * `root: "/srv/{{ host.name }}"` would reach its users as the literal text `{{ host.name }}`.
 *
 * A value is rendered against the same vars it lives among (plus a step's loop var), so a
 * var may use `host`, other vars and the loop item. Secrets and the built-ins `host` and
 * `inventory` are never rendered: their text is data.
 *
 * Errors point at the var's own value (file:line:col) and then say where the var was used.
 */
import { ConfigError, type SourcePos } from './errors.js';

type Path = (string | number)[];

/** Where each var's value sits in its YAML file (the winning definition). */
export type VarPositions = Record<string, (path: Path) => SourcePos>;

/** The renderer a var value goes through (TemplateEngine.renderValue). */
export type RenderValue = (value: unknown, vars: object, posOf: (path: Path) => SourcePos) => unknown;

/** A var's value failed to render: the first error, and every use that led to it. */
class VarRenderError extends Error {
  constructor(
    readonly base: ConfigError,
    readonly uses: string[],
    /** A cycle names its own members: only the use that entered it is worth showing. */
    readonly cycle = false,
  ) {
    super(base.message);
  }
}

export function hasTemplate(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('{{') || value.includes('{%');
  if (Array.isArray(value)) return value.some(hasTemplate);
  if (value !== null && typeof value === 'object') return Object.values(value).some(hasTemplate);
  return false;
}

function fmt(pos: SourcePos | undefined): string {
  return pos ? `${pos.file}:${pos.line}:${pos.col}` : 'an unknown place';
}

export class LazyVars {
  /** Vars whose values are used as they are. */
  private readonly plain: Record<string, unknown> = {};
  /** Vars whose values hold templates, by name. */
  private readonly templated = new Map<string, unknown>();
  private readonly cache = new Map<string, unknown>();
  /** Names being rendered right now, outermost first (the cycle detector). */
  private readonly stack: string[];

  constructor(
    private readonly raw: Record<string, unknown>,
    private readonly positions: VarPositions,
    private readonly render: RenderValue,
    literal: (name: string, value: unknown) => boolean,
    stack: string[] = [],
  ) {
    this.stack = stack;
    for (const [k, v] of Object.entries(raw)) {
      if (!literal(k, v) && hasTemplate(v)) this.templated.set(k, v);
      else this.plain[k] = v;
    }
  }

  /** The same vars plus one more (a loop item), rendered afresh: values may read it. */
  with(name: string, value: unknown): LazyVars {
    return new LazyVars({ ...this.raw, [name]: value }, this.positions, this.render, (k) => k === name || !this.templated.has(k), this.stack);
  }

  /** Every var name, rendered or not (for "did you mean"). */
  names(): string[] {
    return [...Object.keys(this.plain), ...this.templated.keys()];
  }

  /**
   * A plain context for one render. `reads` are the names the template surely reads, with
   * where: a failure there is an error. Other templated vars the text mentions (a guarded
   * `x | default(...)`) are rendered softly: one that fails is left undefined, as in Ansible.
   */
  contextFor(reads: { name: string; pos: SourcePos | undefined }[], source: () => string | undefined): Record<string, unknown> {
    if (this.templated.size === 0) return this.plain;
    const text = source();
    const ctx: Record<string, unknown> = { ...this.plain };
    const readNames = new Set(reads.map((r) => r.name));
    for (const r of reads) {
      if (!this.templated.has(r.name)) continue;
      try {
        ctx[r.name] = this.resolve(r.name);
      } catch (e) {
        throw usedAt(e, r.name, r.pos);
      }
    }
    for (const name of this.templated.keys()) {
      if (readNames.has(name) || text === undefined || !mentions(text, name)) continue;
      try {
        ctx[name] = this.resolve(name);
      } catch {
        /* left undefined: the template guards it */
      }
    }
    return ctx;
  }

  private resolve(name: string): unknown {
    if (this.cache.has(name)) return this.cache.get(name);
    const posOf = this.positions[name] ?? (() => undefined as unknown as SourcePos);
    const at = this.stack.indexOf(name);
    if (at !== -1) {
      const cycle = [...this.stack.slice(at), name];
      const first = this.positions[cycle[0]!]?.([]);
      throw new VarRenderError(new ConfigError(`var cycle: ${cycle.join(' -> ')}`, first, "a var's value cannot use itself, directly or through other vars"), [], true);
    }
    this.stack.push(name);
    let value: unknown;
    try {
      value = this.render(this.templated.get(name), this, posOf);
    } catch (e) {
      if (e instanceof VarRenderError) throw e;
      if (e instanceof ConfigError) throw new VarRenderError(new ConfigError(`${e.problem} in the value of var \`${name}\``, e.pos ?? posOf([]), e.hint), []);
      throw e;
    } finally {
      this.stack.pop();
    }
    this.cache.set(name, value);
    return value;
  }
}

function mentions(text: string, name: string): boolean {
  const i = text.indexOf(name);
  if (i === -1) return false;
  return new RegExp(`(^|[^\\w.])${name.replace(/[$]/g, '\\$')}(?!\\w)`).test(text);
}

/** Adds one use to a var error; the outermost use turns it into the ConfigError shown. */
function usedAt(e: unknown, name: string, pos: SourcePos | undefined): unknown {
  if (!(e instanceof VarRenderError)) return e;
  const use = `\`${name}\` used at ${fmt(pos)}`;
  return new VarRenderError(e.base, e.cycle ? [use] : [...e.uses, use], e.cycle);
}

/**
 * The context a render gets: `vars` itself unless it is a LazyVars. A var error escaping
 * here (the outermost render) becomes one ConfigError: the var's own position, then uses.
 */
export function varsContext(vars: object, reads: { name: string; pos: SourcePos | undefined }[], source: () => string | undefined): object {
  if (!(vars instanceof LazyVars)) return vars;
  try {
    return vars.contextFor(reads, source);
  } catch (e) {
    if (!(e instanceof VarRenderError) || insideVar(vars)) throw e;
    const b = e.base;
    const uses = e.uses.length ? `; ${e.uses.join(', ')}` : '';
    return rethrow(new ConfigError(`${b.problem}${uses}`, b.pos, b.hint));
  }
}

function insideVar(vars: LazyVars): boolean {
  return (vars as unknown as { stack: string[] }).stack.length > 0;
}

function rethrow(e: Error): never {
  throw e;
}

/** Every name in the context (for "did you mean"), whatever kind `vars` is. */
export function varNames(vars: object): string[] {
  return vars instanceof LazyVars ? vars.names() : Object.keys(vars);
}
