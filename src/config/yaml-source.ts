/**
 * A parsed YAML file that remembers where everything came from. Loaders validate the plain
 * JS value (`data`) and ask this object for the position of any path in it, so every
 * error names file, line and column. yaml's own errors (syntax, duplicate keys) keep the
 * position yaml reports.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type Pair, type YAMLError } from 'yaml';
import { ConfigError, ConfigErrors, type SourcePos } from './errors.js';
import { displayPath } from './paths.js';
import { readConfigText } from './read-text.js';
import { aliasBombError, MAX_ALIAS_COUNT, structureErrors } from './yaml-structure.js';

export type YamlPath = readonly (string | number)[];
/** Position of a path: `key` points at a map entry's key, `value` (default) at its value. */
export type PosOf = (path: YamlPath, at?: 'key' | 'value') => SourcePos;

export class YamlSource {
  readonly file: string;
  readonly data: unknown;
  private readonly doc: Document.Parsed;
  private readonly lines: LineCounter;
  private readonly text: string;

  private constructor(file: string, text: string, doc: Document.Parsed, lines: LineCounter, data: unknown) {
    this.file = file;
    this.text = text;
    this.doc = doc;
    this.lines = lines;
    this.data = data;
  }

  /** Parses `text`; throws ConfigErrors with yaml's positions on syntax errors or duplicate keys. */
  static parse(absFile: string, text: string): YamlSource {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const shown = displayPath(absFile);
    if (doc.errors.length > 0) {
      // A syntax error makes the parser misread what follows: only the first one is
      // reliable. Duplicate keys are independent of each other and all reported.
      const dups = doc.errors.filter((e) => e.code === 'DUPLICATE_KEY');
      const first = doc.errors.find((e) => e.code !== 'DUPLICATE_KEY');
      const shownErrors = first ? [...dups, first].sort((a, b) => a.pos[0] - b.pos[0]) : dups;
      throw new ConfigErrors(shownErrors.map((e) => yamlError(e, doc, lines, shown)));
    }
    const structure = structureErrors(doc, lines, shown);
    if (structure.length > 0) throw new ConfigErrors(structure);
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      if (e instanceof ReferenceError) throw new ConfigErrors([aliasBombError(doc, lines, shown)]);
      throw e;
    }
    return new YamlSource(shown, text, doc, lines, data);
  }

  /**
   * Reads and parses a file; a missing, unreadable, non-regular, oversized or non-UTF-8
   * file is a ConfigError at `from` (the place naming it) or in the file itself.
   */
  static async load(absFile: string, from?: SourcePos, what = 'file'): Promise<YamlSource> {
    return YamlSource.parse(absFile, await readConfigText(absFile, what, from));
  }

  /** Position of the document start (for errors about the whole file). */
  get start(): SourcePos {
    return this.posAt(this.doc.contents?.range?.[0] ?? 0);
  }

  readonly posOf: PosOf = (path, at = 'value') => {
    const found = this.walk(path);
    const target = at === 'key' ? (found.pair?.key as Node | undefined) ?? found.node : found.node ?? (found.pair?.key as Node | undefined);
    const offset = target?.range?.[0] ?? found.fallback;
    return this.posAt(offset);
  };

  /** The source text of the scalar at `path` (to tell `0644` from `644`), if it is one. */
  rawAt(path: YamlPath): string | undefined {
    const { node } = this.walk(path);
    if (!node || !isScalar(node) || !node.range) return undefined;
    return this.text.slice(node.range[0], node.range[1]).trim();
  }

  private posAt(offset: number): SourcePos {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, col };
  }

  /** Follows `path` as far as it exists; `fallback` is the offset of the deepest node reached. */
  private walk(path: YamlPath): { node: Node | undefined; pair: Pair | undefined; fallback: number } {
    let node: unknown = this.doc.contents;
    let pair: Pair | undefined;
    let fallback = this.doc.contents?.range?.[0] ?? 0;
    for (const seg of path) {
      pair = undefined;
      if (isMap(node)) {
        const hit = node.items.find((p) => isPair(p) && String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
        if (!hit) return { node: undefined, pair: undefined, fallback };
        pair = hit as Pair;
        node = hit.value ?? undefined;
        fallback = (hit.key as Node | undefined)?.range?.[0] ?? fallback;
        if (node === undefined) return { node: undefined, pair, fallback };
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
        if (node === undefined) return { node: undefined, pair: undefined, fallback };
      } else {
        return { node: undefined, pair: undefined, fallback };
      }
      const range = (node as Node).range;
      if (range) fallback = range[0];
    }
    return { node: node as Node, pair, fallback };
  }
}

/** yaml's error as a ConfigError saying what is wrong in words a config author knows, and the fix. */
function yamlError(e: YAMLError, doc: Document.Parsed, lines: LineCounter, file: string): ConfigError {
  const at = (offset: number): SourcePos => ({ file, ...lines.linePos(offset) });
  const message = e.message.replace(/\s+at line \d+, column \d+[\s\S]*$/, '');
  const offset = e.pos[0];
  if (e.code === 'DUPLICATE_KEY') {
    let found: { key: string; first: number } | undefined;
    visit(doc, {
      Map(_k, map) {
        const dup = map.items.find((p) => (p.key as Node | null)?.range?.[0] === offset);
        if (!dup || !isScalar(dup.key)) return undefined;
        const key = String(dup.key.value);
        const first = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
        found = { key, first: (first!.key as Node).range![0] };
        return visit.BREAK;
      },
    });
    if (found) {
      return new ConfigError(`duplicate key \`${found.key}\` (also at line ${lines.linePos(found.first).line})`, at(offset), 'each key may appear once in a map: merge the two entries or rename one');
    }
    return new ConfigError('duplicate key', at(offset), 'each key may appear once in a map: merge the two entries or rename one');
  }
  if (e.code === 'MULTIPLE_DOCS') {
    return new ConfigError('YAML: a second document starts here: a config file holds one document', at(offset), 'remove this `---` line, or move what follows into its own file');
  }
  if (e.code === 'MISSING_CHAR' && /quote/.test(message)) {
    // yaml reports the end of the file; the useful place is the opening quote.
    const q = message.includes('"') ? '"' : "'";
    let open: number | undefined;
    visit(doc, {
      Scalar(_k, node) {
        if ((node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') && node.range && node.range[1] >= offset) {
          open = node.range[0];
          return visit.BREAK;
        }
        return undefined;
      },
    });
    return new ConfigError(`YAML: quoted string is never closed`, at(open ?? offset), `add the closing ${q} on this line`);
  }
  if (e.code === 'BAD_INDENT' && /^Flow (map|sequence)/.test(message)) {
    const close = message.startsWith('Flow map') ? '}' : ']';
    const what = close === '}' ? '`{ ... }` map' : '`[ ... ]` list';
    return new ConfigError(`YAML: a ${what} opened above is not closed before this line`, at(offset), `add the missing \`${close}\` at the end of the previous entry`);
  }
  const hint =
    e.code === 'TAB_AS_INDENT'
      ? 'indent with spaces'
      : e.code === 'BAD_INDENT' || e.code === 'BLOCK_AS_IMPLICIT_KEY' || e.code === 'MULTILINE_IMPLICIT_KEY'
        ? 'keys of one map must start at the same column, and a value on the same line as its key cannot be a map'
        : 'check the indentation and quoting of this line and the one above';
  return new ConfigError(`YAML: ${message}`, at(offset), hint);
}
