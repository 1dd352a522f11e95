/**
 * What `file`, `template`, `systemd_unit`, `sudoers` and `download` share: the facts a
 * managed file needs, the pure diff of desired bytes + attributes against them, and the
 * guarded apply fragment (via `_put` in sh-lib).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { AttrDiff, Change, DiffContext, FactRequest, Facts, ManagedFile, ScriptContext } from './types.js';
import { joinSh, rawSh, sh, shHeredoc, type Sh } from './sh.js';

/** Modes are quoted octal strings in YAML ('0644'): YAML 1.2 reads 0644 as decimal 644. */
export const modeSchema = z
  .string({ error: "expected a file mode as a quoted octal string such as '0644'" })
  .regex(/^[0-7]{3,4}$/, "mode must be 3 or 4 octal digits, quoted, e.g. '0644'");

/** User and group names: what useradd accepts, so no shell metacharacter ever gets through. */
export const nameSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_-]*\$?$/i, 'not a valid user or group name: use letters, digits, `_` and `-`, starting with a letter or `_`');

export const absPathSchema = z
  .string()
  .refine((p) => p.startsWith('/'), { message: 'expected an absolute path, starting with `/`', abort: true })
  .refine((p) => !/^\/+$/.test(p), { message: '`/` itself cannot be managed: name a path under it', abort: true })
  .refine((p) => !p.split('/').includes('..'), 'a path must not contain `..`: write the path it resolves to')
  .refine((p) => !p.includes('\0'), 'must not contain NUL');

/** The fields every file-like step shares. */
export const fileAttrsShape = {
  mode: modeSchema.optional(),
  owner: nameSchema.optional(),
  group: nameSchema.optional(),
  backup: z.boolean().optional(),
  validate: z.string().min(1).optional(),
  validate_set: z.string().min(1).optional(),
  state: z.enum(['present', 'absent']).optional(),
};

/** The desired state of one managed file (declared with the step-type contract, which names it). */
export type { ManagedFile };

/** '0644' -> '644', the form `stat -c %a` prints. */
export function normalizeMode(mode: string): string {
  return mode.replace(/^0+(?=\d{3})/, '');
}

/** Digests of buffers by identity: a downloaded binary shared by every host is hashed once, not per host. */
const digests = new WeakMap<Buffer, string>();

export function sha256(data: Buffer | string): string {
  if (typeof data === 'string') return createHash('sha256').update(data).digest('hex');
  let d = digests.get(data);
  if (d === undefined) digests.set(data, (d = createHash('sha256').update(data).digest('hex')));
  return d;
}

export function fileFacts(dest: string): FactRequest[] {
  return [
    { kind: 'stat', path: dest },
    { kind: 'sha256', path: dest },
  ];
}

const MAX_SHOWN = 256 * 1024;

/** Text for a diff, or null for binary/oversized content. */
export function asText(data: Buffer): string | null {
  if (data.length > MAX_SHOWN || data.includes(0)) return null;
  const text = data.toString('utf8');
  return Buffer.from(text, 'utf8').equals(data) ? text : null;
}

export function attrDiffs(
  want: { mode?: string | undefined; owner?: string | undefined; group?: string | undefined },
  have: { mode: string; owner: string; group: string } | null,
): AttrDiff[] {
  const out: AttrDiff[] = [];
  if (want.mode !== undefined && (!have || normalizeMode(have.mode) !== normalizeMode(want.mode))) {
    out.push({ field: 'mode', before: have ? have.mode : null, after: want.mode.padStart(4, '0') });
  }
  if (want.owner !== undefined && (!have || have.owner !== want.owner)) {
    out.push({ field: 'owner', before: have?.owner ?? null, after: want.owner });
  }
  if (want.group !== undefined && (!have || have.group !== want.group)) {
    out.push({ field: 'group', before: have?.group ?? null, after: want.group });
  }
  return out;
}

/** Pure diff of a managed file against the probed facts. */
export function diffManagedFile(kind: string, f: ManagedFile, facts: Facts, ctx: DiffContext): Change<ManagedFile> | null {
  const stat = facts.stat.get(f.dest) ?? null;
  const id = `${kind} ${f.dest}`;
  if (f.state === 'absent') {
    if (!stat) return null;
    return { step: ctx.step, kind, id, action: 'delete', reason: 'exists and must be absent', attrs: [], spec: f };
  }
  if (stat && stat.type !== 'f') {
    const what = stat.type === 'd' ? 'a directory' : stat.type === 'l' ? 'a symlink' : `of type ${stat.type}`;
    return {
      step: ctx.step, kind, id, action: 'update', reason: `exists but is ${what}; it will be replaced by a file`,
      attrs: [], spec: f, content: { path: f.dest, before: null, after: asText(f.content) },
    };
  }
  const want = sha256(f.content);
  const have = facts.sha256.get(f.dest) ?? null;
  const attrs = attrDiffs(f, stat ? { mode: stat.mode, owner: stat.owner, group: stat.group } : null);
  if (stat && have === want && attrs.length === 0) return null;
  const after = asText(f.content);
  const oldBytes = facts.content.get(f.dest);
  const before = !stat ? null : oldBytes ? asText(oldBytes) : undefined;
  const contentChanged = !stat || have !== want;
  return {
    step: ctx.step,
    kind,
    id,
    action: stat ? 'update' : 'create',
    reason: !stat ? 'does not exist' : contentChanged ? 'content differs' : attrs.map((a) => `${a.field} differs`).join(', '),
    attrs: stat ? attrs : attrs.filter((a) => a.after !== null),
    content: contentChanged
      ? { path: f.dest, before, after, binary: after === null || (before === null && !!stat) }
      : undefined,
    spec: f,
    data: { sha256: want },
  };
}

/** Base64 in 76-column lines inside a quoted heredoc: no expansion, any bytes survive. */
export function heredoc(data: Buffer, nonce: string, after: Sh = sh``): Sh {
  const b64 = data.toString('base64').replace(/.{1,76}/g, '$&\n');
  return shHeredoc(`_P_${nonce}`, b64, after);
}

/** The user's validate command with `%s` replaced by the staged file (one quoted word). */
function validateCommand(command: string, stage: string): Sh {
  return joinSh(command.split('%s').map((part) => rawSh(part, 'the validate command the user wrote')), sh`${stage}`);
}

/**
 * The guarded fragment that installs (or stages) a managed file. It ends with
 * `|| return 1` on the `_put` line (before a heredoc body, if any), so more sh can be appended.
 */
/** Content this large travels as a raw payload, not as base64 inside the script. */
export const RAW_PAYLOAD_MIN = 64 * 1024;

/**
 * `raw`: send the content as a raw payload whatever its size (downloads: binaries of
 * 100+ MB that base64 would inflate and the host's sh would hold in memory).
 */
export function putFileFragment(f: ManagedFile, ctx: ScriptContext, opts: { raw?: boolean } = {}): Sh {
  if (f.state === 'absent') {
    // Inside a validation set the engine's commit removes it after validation.
    return ctx.validateSet ? sh`:` : sh`_absent ${f.dest}`;
  }
  const stage = ctx.stagePath(f.dest);
  // An argument of _put, which runs it (with eval): quoted once more as a word here.
  const validate = f.validate ? validateCommand(f.validate, stage).text : '';
  const args = [f.dest, sha256(f.content), stage];
  if (f.mode) args.push(`mode=${normalizeMode(f.mode)}`);
  if (f.owner) args.push(`owner=${f.owner}`);
  if (f.group) args.push(`group=${f.group}`);
  if (f.backup) args.push('backup');
  if (validate) args.push(`validate=${validate}`);
  if (ctx.validateSet) args.push('stage-only');
  const file = opts.raw || f.content.length >= RAW_PAYLOAD_MIN ? ctx.payload?.(f.content) : undefined;
  if (file !== undefined) return sh`_put ${args} raw < ${file} || return 1`;
  const text = shellText(f.content);
  if (text !== null) return sh`_put ${args} ${`text=${text}`} || return 1`;
  return sh`_put ${args} ${heredoc(f.content, ctx.nonce, sh` || return 1`)}`;
}

/**
 * The content as a shell word's text when the sh builtin printf can write it exactly (no
 * process on the host): UTF-8 without NUL, below the raw-payload size. Else null: base64.
 */
function shellText(data: Buffer): string | null {
  if (data.length >= RAW_PAYLOAD_MIN || data.includes(0)) return null;
  const text = data.toString('utf8');
  return Buffer.from(text, 'utf8').equals(data) ? text : null;
}

/**
 * `content` or `src` (a template), for step types whose file is text they own
 * (`sudoers`, `systemd_unit`): the check and the prepare they share.
 */
export const inlineOrTemplate = {
  check(s: { state?: string | undefined; content?: string | undefined; src?: string | undefined }): string | null {
    if (s.state === 'absent') return null;
    if ((s.content === undefined) === (s.src === undefined)) return 'give exactly one of `content` (inline text) or `src` (a template under templates/)';
    return null;
  },
  async prepare<S extends { state?: string | undefined; content?: string | undefined; src?: string | undefined }>(
    s: S,
    ctx: { renderTemplate(src: string): Promise<string> },
  ): Promise<S> {
    if (s.src === undefined || s.state === 'absent') return s;
    const { src, ...rest } = s;
    return { ...rest, content: await ctx.renderTemplate(src) } as S;
  },
};
