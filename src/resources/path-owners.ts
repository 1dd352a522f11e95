/**
 * One step per managed path. Two steps that write the same file (a `file` and a
 * `template`, a `line` in a file a `template` owns, a directory `absent` and `present`)
 * undo each other on every apply, and every `check` reports drift forever: refused when a
 * host's steps are expanded, naming both. The same step written twice (an included role
 * and the playbook both ensuring /etc/consul.d with the same settings) is harmless and
 * allowed. `acl` is not an owner: it manages a path's ACL, not the path.
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

/** Remembers who owns each path; `claim` returns the error for a second, different owner. */
export class PathOwners {
  private readonly owners = new Map<string, Owner>();

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
    const at = `${first.pos.file}:${first.pos.line}:${first.pos.col}`;
    return new ConfigError(`\`${kind}\` manages ${p}, which the \`${first.kind}\` step at ${at} manages too: each apply would undo the other, and every check report drift`, pos, 'keep one step per path: merge the two, or drop one');
  }
}
