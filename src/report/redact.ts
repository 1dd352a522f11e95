/**
 * Secrets never reach an output channel: every string a reporter prints or writes passes
 * through `redact`, which masks each secret value (longest first, so a secret containing
 * another is masked whole), and the forms a secret takes on its way to an output:
 * - each line of a multi-line secret (a PEM key in a `--diff` is printed line by line,
 *   each behind a `+`/`-`, so the whole value never appears in one piece);
 * - what the template filters make of it: `b64encode`, `to_json`/`tojson` (Python's
 *   escapes too), `quote` (shlex's form) and the shell quoting of generated steps.
 */
import { jsonStringForms } from '../config/filters/json.js';
import { shlexQuote } from '../config/filters/strings.js';
import { shellQuote } from '../config/shell-quote.js';

export const MASK = '********';

/** Lines shorter than this are not masked on their own: `}` or `` would mask everything. */
const MIN_LINE = 6;

function forms(secret: string): string[] {
  const out = [secret, Buffer.from(secret, 'utf8').toString('base64'), JSON.stringify(secret).slice(1, -1), shellQuote(secret), shlexQuote(secret), ...jsonStringForms(secret)];
  if (secret.includes('\n')) {
    for (const line of secret.split(/\r?\n/)) if (line.trim().length >= MIN_LINE) out.push(line.trim());
  }
  return out;
}

export class Redactor {
  private readonly values: string[];
  constructor(secrets: readonly string[]) {
    const all = secrets.filter((s) => s.length > 0).flatMap(forms);
    this.values = [...new Set(all.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
  }
  redact(text: string): string {
    let out = text;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join(MASK);
    return out;
  }
  /** Deep copy of a JSON-able value with every string redacted. */
  redactDeep<T>(value: T): T {
    return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === 'string' ? this.redact(v) : v))) as T;
  }
}
