/**
 * Where a secret may flow, decided per step field before anything connects.
 *
 * A secret may be the CONTENT of a file that other users cannot read: `file` (`content`
 * or `src`), `template` (the rendered `src`), `systemd_unit` (`content` or `src`), each
 * with an explicit `mode` that gives others no read bit, and `sudoers` (always 0440).
 * Every other field of every step type is refused a secret, because on the host it
 * becomes a command-line argument (visible to every user in `ps` and kept in the
 * journal's `_CMDLINE`), a file, unit or account name (anyone can list them), a
 * world-readable setting (`/etc/passwd` for a `comment`) or a report line: `cmd`,
 * `unless`, `validate`, `comment`, `dest`, `path`, `name`, `url`, `line`... (the whole
 * table is in docs/secrets.md). A step's display name is refused one too. `line` is
 * refused because the mode of the file it edits is not the step's to choose.
 *
 * Secrets are traced by value (the rendered string contains it); values shorter than
 * MIN_TRACED characters are not traced: they would match everywhere.
 */
import { ConfigError, type SourcePos } from '../config/errors.js';
import type { SecretInfo } from '../config/secrets.js';

type Path = (string | number)[];

export const MIN_TRACED = 4;

/** Step types whose file content may hold a secret, and the body field holding it. */
const CONTENT_KINDS = new Set(['file', 'template', 'systemd_unit', 'sudoers']);

/** Where a field's value ends up on the host, for the message. */
const SINKS: Record<string, string> = {
  cmd: 'a command line, readable by every user in the process list and kept in the journal',
  unless: 'a command line, readable by every user in the process list and kept in the journal',
  validate: 'a command line, readable by every user in the process list and kept in the journal',
  comment: 'a `useradd`/`usermod` argument (the process list, the journal) and /etc/passwd, which every user can read',
  line: 'a line of a file whose mode this step does not control',
  url: 'a URL, shown in reports and error messages',
  entries: 'a `setfacl` argument, readable by every user in the process list',
  packages: 'an `apt-get` argument, readable by every user in the process list',
};
const NAME_SINK = 'a path or name, which every user of the host can list';
const NAME_FIELDS = new Set(['dest', 'path', 'name', 'src', 'target', 'dropin', 'extract', 'owner', 'group', 'groups', 'home', 'shell', 'validate_set']);

/** Which secret (by name) `data` holds, if any; the longest value wins. */
export class SecretTracer {
  private readonly byLength: [string, string][];
  constructor(secrets: ReadonlyMap<string, SecretInfo> | undefined) {
    this.byLength = [...(secrets ?? new Map<string, SecretInfo>())]
      .map(([name, s]): [string, string] => [name, s.value])
      .filter(([, v]) => v.length >= MIN_TRACED)
      .sort((a, b) => b[1].length - a[1].length);
  }
  find(data: string | Buffer): string | undefined {
    return this.byLength.find(([, v]) => data.includes(v))?.[0];
  }
  get empty(): boolean {
    return this.byLength.length === 0;
  }
}

const HINT = "a secret may only be the content of a file others cannot read: put it in a `template` (mode '0600') and let the program read that file";

/**
 * Secrets in fields that are not a private file's content. `spec` is the rendered body
 * (before `prepare`); `posOf` points into the step's YAML body.
 */
export function secretFieldErrors(kind: string, spec: unknown, tracer: SecretTracer, posOf: (p: Path) => SourcePos): ConfigError[] {
  const errors: ConfigError[] = [];
  const walk = (v: unknown, at: Path): void => {
    if (typeof v === 'string') {
      const name = tracer.find(v);
      if (!name) return;
      const field = String(at.find((p) => typeof p === 'string') ?? '');
      if (CONTENT_KINDS.has(kind) && field === 'content') return; // judged with the mode, after prepare
      const sink = SINKS[field] ?? (NAME_FIELDS.has(field) ? NAME_SINK : 'a setting every user of the host can read');
      errors.push(new ConfigError(`secret \`${name}\` would reach \`${field}\` of \`${kind}\`: ${sink}`, posOf(at), HINT));
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...at, i]));
    else if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) for (const [k, x] of Object.entries(v)) walk(x, [...at, k]);
  };
  if (!tracer.empty) walk(spec, []);
  return errors;
}

/** The mode a file-like step gives its file; undefined when it leaves it to the umask or an existing file. */
function fileMode(kind: string, spec: { mode?: string }): string | undefined {
  return kind === 'sudoers' ? '0440' : spec.mode;
}

/**
 * A secret in a file's content (inline, from `src` or a rendered template, as prepared)
 * when the file may be world-readable: refused, at the field that brought it.
 */
export function secretContentError(kind: string, rendered: Record<string, unknown>, prepared: Record<string, unknown>, tracer: SecretTracer, posOf: (p: Path) => SourcePos): ConfigError | undefined {
  if (!CONTENT_KINDS.has(kind) || tracer.empty) return undefined;
  const bytes = prepared.bytes;
  const content = Buffer.isBuffer(bytes) ? bytes : typeof prepared.content === 'string' ? prepared.content : undefined;
  const name = content === undefined ? undefined : tracer.find(content);
  if (!name) return undefined;
  const mode = fileMode(kind, rendered as { mode?: string });
  if (mode !== undefined && (parseInt(mode, 8) & 0o004) === 0) return undefined;
  const field = rendered.content !== undefined ? 'content' : 'src';
  const why = mode === undefined ? 'has no `mode`, so it is created world-readable under the usual umask' : `has mode ${mode}, which every user of the host can read`;
  return new ConfigError(`secret \`${name}\` in the content of \`${kind}\`, whose file ${why}`, posOf([field]), "give it `mode: '0600'`, or '0640' with a `group`");
}
