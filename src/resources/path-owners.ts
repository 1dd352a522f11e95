/**
 * One step per managed path. Two steps that write the same file (a `file` and a
 * `template`, a `line` in a file a `template` owns, a directory `absent` and `present`)
 * undo each other on every apply, and every `check` reports drift forever: refused when a
 * host's steps are expanded, naming both. The same step written twice (an included role
 * and the playbook both ensuring /etc/consul.d with the same settings) is harmless and
 * allowed. `acl` is not an owner: it manages a path's ACL, not the path.
 *
 * Several `line` steps may edit one file (as Ansible's lineinfile is used: one step per
 * setting of an env file), unless two of them match the same lines (the same `regexp`, or
 * the same `line` without one) and want different results, or give the file different
 * modes: those would undo each other.
 */
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ConfigError, type SourcePos } from '../config/errors.js';
import { SUDOERS_DIR } from './sudoers.js';
import { unitDest } from './systemd-unit.js';

/** The path a step owns (its content or existence), if it owns one. */
export function managedPath(kind: string, spec: Record<string, unknown>): string | undefined {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  switch (kind) {
    case 'file':
    case 'template':
    case 'download':
      return str(spec.dest);
    case 'directory':
    case 'symlink':
    case 'line':
      return str(spec.path);
    case 'systemd_unit':
      return unitDest(spec as { name: string; dropin?: string });
    case 'sudoers':
      return `${SUDOERS_DIR}/${String(spec.name)}`;
    default:
      return undefined;
  }
}

interface Owner {
  kind: string;
  spec: unknown;
  pos: SourcePos;
}

interface LineLike {
  regexp?: string;
  line?: string;
  mode?: string;
}

/** Remembers who owns each path; `claim` returns the error for a second, different owner. */
export class PathOwners {
  private readonly owners = new Map<string, Owner>();
  /** Every `line` step of a path after the first (the first is in `owners`). */
  private readonly moreLines = new Map<string, Owner[]>();

  /** A further `line` step on a path only `line` steps own: refused only where two would fight. */
  private claimLine(p: string, spec: LineLike, pos: SourcePos): ConfigError | undefined {
    const others = [this.owners.get(p)!, ...(this.moreLines.get(p) ?? [])];
    const key = (s: LineLike) => s.regexp ?? s.line;
    for (const o of others) {
      const other = o.spec as LineLike;
      const at = `${o.pos.file}:${o.pos.line}:${o.pos.col}`;
      if (key(other) === key(spec) && !isDeepStrictEqual(other, spec)) {
        return new ConfigError(`this \`line\` step matches the same lines of ${p} as the \`line\` step at ${at}, with another result: each apply would undo the other`, pos, 'merge the two steps into one, or give each its own `regexp`');
      }
      if (other.mode !== undefined && spec.mode !== undefined && other.mode !== spec.mode) {
        return new ConfigError(`this \`line\` step gives ${p} mode ${spec.mode}, the \`line\` step at ${at} mode ${other.mode}: each apply would undo the other`, pos, 'give the file one mode (or set it in one step only)');
      }
    }
    this.moreLines.set(p, [...(this.moreLines.get(p) ?? []), { kind: 'line', spec, pos }]);
    return undefined;
  }

  claim(kind: string, spec: unknown, pos: SourcePos): ConfigError | undefined {
    const raw = managedPath(kind, spec as Record<string, unknown>);
    if (raw === undefined) return undefined;
    const p = path.posix.normalize(raw).replace(/(.)\/+$/, '$1');
    const first = this.owners.get(p);
    if (!first) {
      this.owners.set(p, { kind, spec, pos });
      return undefined;
    }
    if (first.kind === kind && isDeepStrictEqual(first.spec, spec)) return undefined;
    if (kind === 'line' && first.kind === 'line') return this.claimLine(p, spec as LineLike, pos);
    const at = `${first.pos.file}:${first.pos.line}:${first.pos.col}`;
    return new ConfigError(`\`${kind}\` manages ${p}, which the \`${first.kind}\` step at ${at} manages too: each apply would undo the other, and every check report drift`, pos, 'keep one step per path: merge the two, or drop one');
  }
}
