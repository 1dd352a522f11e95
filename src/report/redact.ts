/**
 * Secrets never reach an output channel: every string a reporter prints or writes passes
 * through `redact`, which masks each secret value (longest first, so a secret containing
 * another is masked whole).
 */
export const MASK = '********';

export class Redactor {
  private readonly values: string[];
  constructor(secrets: readonly string[]) {
    this.values = [...new Set(secrets.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
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
