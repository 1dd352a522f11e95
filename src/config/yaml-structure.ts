/**
 * YAML that parses but cannot become a config value, said in the user's terms with its
 * position (yaml itself only throws while converting, without a line): an alias to no
 * anchor, aliases that expand into a huge tree (an "alias bomb"), and map keys that are
 * not plain scalars (`[web-1, web-2]: {...}` would become a host literally named
 * `[ web-1, web-2 ]`, with a warning from Node).
 */
import { isAlias, isCollection, isScalar, visit, type Alias, type Document, type LineCounter, type Node } from 'yaml';
import { ConfigError, type SourcePos } from './errors.js';

/** yaml's own limit (toJS `maxAliasCount`); past it, the place is found by counting expanded values. */
export const MAX_ALIAS_COUNT = 1000;
const MAX_ALIAS_NODES = 1000;

export function structureErrors(doc: Document.Parsed, lines: LineCounter, file: string): ConfigError[] {
  const at = (node: Node | null | undefined): SourcePos => ({ file, ...lines.linePos(node?.range?.[0] ?? 0) });
  const errors: ConfigError[] = [];
  visit(doc, {
    Alias(_k, alias) {
      if (alias.resolve(doc) === undefined) {
        errors.push(new ConfigError(`YAML alias \`*${alias.source}\` refers to no anchor`, at(alias), `define \`&${alias.source}\` on a value above this line, or write the value here`));
      }
    },
    Pair(_k, pair) {
      const key = pair.key as Node | null;
      const target = isAlias(key) ? key.resolve(doc) : key;
      if (key !== null && (isCollection(target) || (!isScalar(target) && target !== undefined))) {
        errors.push(new ConfigError('a map key must be a plain name, not a list or a map', at(key), 'write one entry per name, e.g. `web-1: ...` and `web-2: ...`'));
      }
    },
  });
  return errors;
}

/**
 * yaml refused to expand the aliases (more than MAX_ALIAS_NODES): the error at the alias
 * where the expansion passes that size.
 */
export function aliasBombError(doc: Document.Parsed, lines: LineCounter, file: string): ConfigError {
  const bomb = aliasBomb(doc);
  const pos = { file, ...lines.linePos(bomb?.range?.[0] ?? 0) };
  const from = bomb ? ` (passed at \`*${bomb.source}\`)` : '';
  return new ConfigError(`YAML aliases expand to too many values${from}: an alias bomb?`, pos, 'aliases of aliases multiply: write the values out, or nest fewer aliases');
}

/** The first alias after which the expanded size passes the limit (counted with memoised anchor sizes). */
function aliasBomb(doc: Document.Parsed): Alias | undefined {
  const sizes = new Map<Node, number>();
  const size = (node: unknown): number => {
    if (isAlias(node)) {
      const target = node.resolve(doc);
      return target ? size(target) : 0;
    }
    if (!isCollection(node)) return 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    sizes.set(node, 1); // a self-reference counts once (yaml refuses it anyway)
    let n = 1;
    for (const item of node.items) {
      const pair = item as { key?: unknown; value?: unknown };
      n += isCollection(item) || isAlias(item) || isScalar(item) ? size(item) : size(pair.key) + size(pair.value);
      if (n > 1e9) break;
    }
    sizes.set(node, n);
    return n;
  };
  let total = 0;
  let found: Alias | undefined;
  visit(doc, {
    Alias(_k, alias) {
      total += size(alias);
      if (total > MAX_ALIAS_NODES) {
        found = alias;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}
