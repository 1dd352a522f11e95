/**
 * The contract every step type implements (one file per type under src/resources/).
 *
 * Life of a step on one host:
 *   1. expand  (controller): `when`/`loop` evaluated, strings rendered, body parsed by `schema`.
 *   2. prepare (controller, optional): render the template, read the source file, download
 *      and verify the archive... so that `spec` holds the exact bytes to install.
 *   3. facts   (pure): which facts the probe must collect. The engine batches the facts of
 *      every step by kind into ONE probe script (one `find`, one `sha256sum`, one
 *      `dpkg-query`, one `systemctl show`...), runs it in ONE exec and parses the output.
 *   4. diff    (pure): desired spec vs facts -> a Change, or null when in sync.
 *   5. apply   (pure): the Change -> a POSIX sh fragment. The engine wraps each fragment in
 *      a function and runs all of them in ONE exec. A fragment re-checks its condition on
 *      the host before acting (the plan may be stale: a package creates a user...), calls
 *      `_changed` when it changed something, and returns non-zero on failure.
 */
import type { z } from 'zod';
import type { SourcePos } from '../config/errors.js';
import type { FactRequest, Facts } from './facts/types.js';
import type { Sh } from './sh.js';

export type { FactRequest, Facts };

export type ChangeAction = 'create' | 'update' | 'delete' | 'run';

/** One attribute that differs: mode, owner, unit state, package version... */
export interface AttrDiff {
  field: string;
  before: string | null;
  after: string | null;
}

/** Content that differs; `before` is undefined when it was not fetched (no --diff). */
export interface ContentDiff {
  path: string;
  before: string | null | undefined;
  after: string | null;
  /** Binary or too large to show; only hashes/sizes are reported. */
  binary?: boolean;
}

/** The desired state of one managed file, as every file-like step reduces to it. */
export interface ManagedFile {
  dest: string;
  /** Exact bytes; ignored when state is absent. */
  content: Buffer;
  mode?: string | undefined;
  owner?: string | undefined;
  group?: string | undefined;
  backup?: boolean | undefined;
  /** A command with `%s` standing for the staged temp file. */
  validate?: string | undefined;
  validateSet?: string | undefined;
  state?: 'present' | 'absent' | undefined;
}

/** A change to converge; `C` is what the step type's diff hands its apply (its spec, or a file it reduces to). */
export interface Change<C = unknown, D = unknown> {
  /** Index of the step in the host's resolved step list. */
  step: number;
  kind: string;
  /** Stable identity, e.g. `file /etc/haproxy/haproxy.cfg`. */
  id: string;
  action: ChangeAction;
  /** One line: why this change is needed ("content differs", "not installed"...). */
  reason: string;
  attrs: AttrDiff[];
  content?: ContentDiff;
  /** The resolved spec the apply fragment is built from. */
  spec: C;
  /** Resource-private data computed by diff for apply (e.g. the probed hash). */
  data?: D;
  /**
   * The file's change is confined to what another step applies to the running service
   * (engine/live-changes.ts): its handlers are notified only if that step does not succeed live.
   */
  live?: { by: number; name: string };
  /** Commands the step sends to the running service's own API (no handler), for the report. */
  runtime?: string[];
}

/** Helpers a fragment generator gets from the engine. */
export interface ScriptContext {
  /** Per-run random token: frames output and names temp files (`.provision-<nonce>.*`). */
  nonce: string;
  /** Temp file path used to stage `dest` (same directory, hidden name). */
  stagePath(dest: string): string;
  /**
   * When the step belongs to a validation set (file-like steps with `validate_set`), the
   * engine handles the rename; the fragment must only stage. Undefined otherwise.
   */
  validateSet?: string;
  /**
   * Sends `content` as a raw payload after the script instead of inside it; returns the
   * shell word of the file on the host that holds it once the script runs, or undefined
   * when payloads cannot be sent (then the content goes inline, as base64).
   */
  payload?(content: Buffer): Sh | undefined;
  /**
   * For a step that applies other steps' file changes live: each such file and the sh
   * variable that is `1` when this run wrote it (engine/live-changes.ts).
   */
  liveFiles?: { path: string; flag: Sh }[];
}

export interface PrepareContext {
  host: string;
  /** Vars of the host (plus loop var), for template rendering (templated values render lazily). */
  vars: object;
  /** Render a template file from the templates dir with `vars`; ConfigError on failure. */
  renderTemplate(src: string, pos?: SourcePos): Promise<string>;
  /** Read a file from the files dir. */
  readSourceFile(src: string, pos?: SourcePos): Promise<Buffer>;
  /** Fetch a URL on the controller, verify its SHA-256, cache it; returns the bytes. */
  download(url: string, sha256: string, pos?: SourcePos): Promise<Buffer>;
  /** True when `text` contains a secret value (its diff is then masked). */
  containsSecret(text: string): boolean;
}

export interface DiffContext {
  /** Step index (copied into Change.step). */
  step: number;
  /** Whether old contents were fetched (--diff); content diffs may then carry `before`. */
  withContent: boolean;
}

/**
 * `S` is the step body as the schema parses it; `C` what its diff hands its apply (`S`
 * itself, or the ManagedFile a file-like step reduces to), `D` the private data beside it. A list of different step types
 * (the registry, a host's steps) holds them as `ResourceType` (`any`): each type is only
 * ever called with the spec its own schema produced and the change its own diff made.
 */
export interface ResourceType<S = any, C = S, D = unknown> {
  /** The YAML key naming the step type: `file`, `apt`... */
  readonly kind: string;
  /** Strict schema of the step body (unknown keys rejected). */
  readonly schema: z.ZodType<S>;
  /** Stable identity, kind first, used in reports: `file /etc/foo`, `service haproxy.service`. */
  id(spec: S): string;
  /** Controller-side preparation: fills in content bytes. Must not touch any host. */
  prepare?(spec: S, ctx: PrepareContext): Promise<S>;
  /** Facts this step needs from the host. Pure. */
  facts(spec: S): FactRequest[];
  /** Desired vs observed. Pure. Null when in sync. */
  diff(spec: S, facts: Facts, ctx: DiffContext): Change<C, D> | null;
  /**
   * When `diff` returned null: why there is nothing to do, one line ("`creates` /x exists").
   * Pure. Without it the engine describes the facts the step asked for (facts/describe.ts).
   */
  okReason?(spec: S, facts: Facts): string;
  /** The guarded sh fragment that converges the host. Pure. */
  apply(change: Change<C, D>, ctx: ScriptContext): Sh;
  /**
   * File-like step types: the file a change installs (a validation set's commit stages,
   * checks and renames it with the set's other members). Undefined for other types.
   */
  managedFile?(change: Change<C, D>): ManagedFile;
  /**
   * For step types usable as handlers (`service`, `command`): the sh fragment that performs
   * the action unconditionally. Pure.
   */
  handler?(spec: S, ctx: ScriptContext): Sh;
  /**
   * Units whose "reload/restart pending" this step reports itself (engine/load-pending.ts
   * then leaves them alone), e.g. haproxy_servers through HAProxy's master CLI.
   */
  loadWatched?(spec: S): string[];
  /**
   * For a step that applies some lines of a file to the running service itself (a runtime
   * API): `text` with those parts masked, or null when it does not know the file. Two
   * versions of the file whose masks are equal differ only in what it applies live.
   */
  liveMask?(spec: S, path: string, text: string): string | null;
  /** For a file step: the name of the later step that applies its changes live (`live_by`). */
  liveBy?(spec: S): string | undefined;
  /** Validation the schema cannot express (cross-field rules); returns an error message. */
  check?(spec: S): string | null;
}
