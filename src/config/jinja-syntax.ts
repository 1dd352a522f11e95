/**
 * Jinja syntax nunjucks reads differently, made to read as Jinja does, process-wide:
 *
 * 1. nunjucks' own Jinja compatibility layer (`installJinjaCompat`): `True`/`False`/`None`,
 *    list slices `xs[1:]`, and Python's methods on maps and lists (`d.items()`,
 *    `d.keys()`, `d.get('k', 0)`, `xs.index(x)`). As in Jinja, `d.items` then names the
 *    method, not a key called `items` (write `d['items']` for that).
 * 2. String literals inside templates read the way Jinja (Python) reads them. nunjucks'
 * lexer drops the backslash of an escape it does not know (`'\d+'` becomes `'d+'`,
 * `'\1'` becomes `'1'`), which silently breaks every Ansible-style regex filter call
 * (`regex_replace('^host-(\d+)', 'node\1')`). Python keeps unknown escapes as written and
 * knows a few more (`\a \b \f \v \xhh \uXXXX \ooo`). Applied once, to nunjucks' lexer
 * prototype, before any template compiles; the known escapes (`\n \t \r \\ \' \"`) read
 * as before. That is how Ansible reads template FILES.
 *
 * Templates inside YAML values are read as Ansible reads them (its `_escape_backslashes`):
 * a backslash in a string literal is kept as written (YAML already processed escapes), so
 * `"{{ x | regex_replace('(\\d+)', '\\1') }}"` needs no doubled backslashes.
 * `withLiteralBackslashes` compiles those.
 */
import nunjucks from 'nunjucks';

interface Lexer {
  current(): string;
  forward(): void;
  isFinished(): boolean;
  str: string;
  index: number;
}

const SIMPLE: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '\n': '' };

/** One escape after the backslash at the lexer's position; returns its text. */
function readEscape(lx: Lexer): string {
  const c = lx.current();
  const hex = (n: number): string | undefined => {
    const digits = lx.str.slice(lx.index + 1, lx.index + 1 + n);
    return new RegExp(`^[0-9a-fA-F]{${n}}$`).test(digits) ? digits : undefined;
  };
  if (c in SIMPLE) {
    lx.forward();
    return SIMPLE[c]!;
  }
  const width = c === 'x' ? 2 : c === 'u' ? 4 : c === 'U' ? 8 : 0;
  const digits = width ? hex(width) : undefined;
  if (digits) {
    for (let i = 0; i <= width; i++) lx.forward();
    return String.fromCodePoint(parseInt(digits, 16));
  }
  const octal = /^[0-7]{1,3}/.exec(lx.str.slice(lx.index, lx.index + 3))?.[0];
  if (octal) {
    for (let i = 0; i < octal.length; i++) lx.forward();
    return String.fromCodePoint(parseInt(octal, 8));
  }
  // Unknown escape: Python keeps the backslash.
  lx.forward();
  return `\\${c}`;
}

let literal = false;

/** Compiles with string-literal backslashes kept as written (templates in YAML values). */
export function withLiteralBackslashes<T>(compile: () => T): T {
  literal = true;
  try {
    return compile();
  } finally {
    literal = false;
  }
}

function parseString(this: Lexer, delimiter: string): string {
  this.forward();
  let str = '';
  while (!this.isFinished() && this.current() !== delimiter) {
    if (this.current() === '\\') {
      this.forward();
      if (literal) {
        // Kept as written; an escaped delimiter still does not end the string.
        str += this.current() === delimiter ? delimiter : `\\${this.current()}`;
        this.forward();
      } else str += readEscape(this);
    } else {
      str += this.current();
      this.forward();
    }
  }
  this.forward();
  return str;
}

let applied = false;
export function useJinjaSyntax(): void {
  if (applied) return;
  nunjucks.installJinjaCompat();
  const lexer = (nunjucks as unknown as { lexer: { lex(src: string): object } }).lexer;
  const proto = Object.getPrototypeOf(lexer.lex('')) as { _parseString: unknown };
  proto._parseString = parseString;
  applied = true;
}
