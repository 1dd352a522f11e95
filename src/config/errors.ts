/**
 * One error hierarchy for the whole tool. Every error a user can see carries a code,
 * a one-line `shortMessage` (what the CLI prints per host or per file) and an optional
 * `detail` (tool output, hints) for verbose logs. Like execa's errors: a result, not a
 * stack trace. Only the CLI prints them.
 */
export class ProvisionError extends Error {
  readonly code: string;
  readonly detail: string | undefined;
  constructor(code: string, shortMessage: string, detail?: string, options?: { cause?: unknown }) {
    super(shortMessage, options);
    this.name = 'ProvisionError';
    this.code = code;
    this.detail = detail;
  }
  get shortMessage(): string {
    return this.message;
  }
}

/** A position in a source file, 1-based line and column. */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

/**
 * Bad input: names the file, line and column and says how to fix it.
 * `shortMessage` renders as `FILE:LINE:COL: message (hint)`.
 */
export class ConfigError extends ProvisionError {
  readonly pos: SourcePos | undefined;
  readonly hint: string | undefined;
  readonly problem: string;
  constructor(problem: string, pos?: SourcePos, hint?: string) {
    const where = pos ? `${pos.file}:${pos.line}:${pos.col}: ` : '';
    super('E_CONFIG', `${where}${problem}${hint ? ` (${hint})` : ''}`);
    this.name = 'ConfigError';
    this.pos = pos;
    this.hint = hint;
    this.problem = problem;
  }
}

/** Several config errors found in one pass; the CLI prints each on its own line. */
export class ConfigErrors extends ProvisionError {
  readonly errors: ConfigError[];
  constructor(errors: ConfigError[]) {
    super('E_CONFIG', errors.map((e) => e.shortMessage).join('\n'));
    this.name = 'ConfigErrors';
    this.errors = errors;
  }
}

/** A host could not be reached or its SSH session failed. */
export class ConnectionError extends ProvisionError {
  constructor(shortMessage: string, detail?: string, options?: { cause?: unknown }) {
    super('E_CONNECT', shortMessage, detail, options);
    this.name = 'ConnectionError';
  }
}

/** The host key was unknown, changed or revoked. Never retried. */
export class HostKeyError extends ProvisionError {
  constructor(shortMessage: string, detail?: string) {
    super('E_HOSTKEY', shortMessage, detail);
    this.name = 'HostKeyError';
  }
}
