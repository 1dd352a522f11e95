/**
 * Shell text as a type of its own. Every script sent to a host (probe, apply, restore,
 * health, bootstrap) is an `Sh`, and an `Sh` is built only by:
 *
 * - the `sh` tagged template, which quotes every interpolated value as one shell word
 *   (POSIX single quotes, config/shell-quote.ts); an array becomes quoted words joined by
 *   spaces; an interpolated `Sh` is inserted as it is;
 * - `joinSh` (joins `Sh` values), `shVar` (a variable name, checked, never quoted),
 *   `shHeredoc` (a quoted here-document: its body is data) and `chompSh`;
 * - `rawSh(text, why)`, the one escape for text that is shell by nature: the user's own
 *   commands (`command` steps, validate and validate_set commands) and the sh libraries.
 *   Its call sites are few and listed in test/unit/resources/sh.test.ts.
 *
 * See docs/shell-text.md.
 *
 * A plain `string` is not an `Sh`, so text built by concatenation cannot reach a script
 * without the compiler saying so. `Sh` converts back to a string only where a script
 * leaves the program (`.text`, `String(x)`): the transport, a file, a test.
 */
import { shellQuote } from '../config/shell-quote.js';

/** One shell word or several: what `sh` accepts between `${}`. */
export type ShValue = string | number | Sh | readonly (string | number | Sh)[];

/** Only this module holds it, so only this module's functions make an `Sh`. */
const MINT: unique symbol = Symbol('sh');

export class Sh {
  constructor(
    mint: typeof MINT,
    readonly text: string,
  ) {
    if (mint !== MINT) throw new TypeError('sh: build shell text with sh`...`, joinSh, shVar or rawSh');
  }

  toString(): string {
    return this.text;
  }

  toJSON(): string {
    return this.text;
  }
}

const make = (text: string) => new Sh(MINT, text);
const NEWLINE = make('\n');

function word(v: string | number | Sh): string {
  if (v instanceof Sh) return v.text;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`sh: ${v} is not a number a shell can read`);
    return shellQuote(String(v));
  }
  if (typeof v !== 'string') throw new TypeError(`sh: cannot interpolate a ${typeof v}`);
  return shellQuote(v);
}

function words(v: ShValue): string {
  return Array.isArray(v) ? (v as readonly (string | number | Sh)[]).map(word).join(' ') : word(v as string | number | Sh);
}

/** Shell text: the literal parts as written, every `${value}` quoted (see ShValue). */
export function sh(parts: TemplateStringsArray, ...values: ShValue[]): Sh {
  // A literal part is undefined when it holds an escape JavaScript cannot cook (`\u{`).
  if (parts.some((p) => p === undefined)) throw new TypeError(`sh: invalid escape in ${JSON.stringify(parts.raw.join('${}'))}`);
  let out = parts[0]!;
  values.forEach((v, i) => {
    out += words(v) + parts[i + 1]!;
  });
  return make(out);
}

/** `Sh` values joined by `sep` (a newline unless given). */
export function joinSh(lines: readonly Sh[], sep: Sh = NEWLINE): Sh {
  return make(lines.map((l) => word(l)).join(sep.text));
}

/** A shell variable name, as `$NAME` or `NAME=` needs it: checked, never quoted. */
export function shVar(name: string): Sh {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new TypeError(`sh: ${JSON.stringify(name)} is not a shell variable name`);
  return make(name);
}

/**
 * A quoted here-document, `<<'TAG'` then `after` (the rest of the command line), the body
 * and the TAG line. The body is data: the quoted tag turns expansion off; it must end with
 * a newline (or be empty) and hold no line equal to TAG.
 */
export function shHeredoc(tag: string, body: string, after: Sh = sh``): Sh {
  if (!/^[A-Za-z0-9_]+$/.test(tag)) throw new TypeError(`sh: ${JSON.stringify(tag)} is not a here-document tag`);
  if ((body !== '' && !body.endsWith('\n')) || body.split('\n').includes(tag)) throw new TypeError(`sh: the here-document body would not end at ${tag}`);
  return make(`<<'${tag}'${after.text}\n${body}${tag}\n`);
}

/** The text without its one final newline, if it has one (a fragment joined to more lines). */
export function chompSh(text: Sh): Sh {
  return make(text.text.replace(/\n$/, ''));
}

/**
 * Text that is shell already and must stay as it is: the user's own command or the sh
 * library. `why` names it (for the reader and for grep); it is not used otherwise.
 */
export function rawSh(text: string, why: string): Sh {
  void why;
  return make(text);
}
