/**
 * Facts are what the probe collects. A request names a kind and a key; the engine groups
 * requests by kind and each kind's collector emits ONE command for all its keys (that is
 * the round-trip and process budget: ~10 processes per host whatever the step count).
 * Every collector is a pure `script(keys)` plus a pure `parse(output, keys)`, unit-tested
 * against recorded output under test/unit/resources/facts/.
 */

import type { HaproxyRuntime } from './haproxy.js';
import type { ProcInfo } from '../haproxy/show-proc.js';
import type { Sh } from '../sh.js';

/** `find -maxdepth 0` over the path: type, mode, owner, group, size, symlink target. */
export interface PathStat {
  /** f file, d directory, l symlink, or another find %y letter. */
  type: string;
  /** Permission bits as 4 octal digits, e.g. `0644`. */
  mode: string;
  owner: string;
  group: string;
  size: number;
  /** Symlink target (only for type l). */
  target: string | null;
  /** Modification time, whole seconds since the epoch (absent in old recordings). */
  mtime?: number;
}

export interface PackageState {
  /** dpkg status abbreviation, e.g. `ii`. Installed means it starts with `ii` (or `hi`). */
  status: string;
  version: string;
}

export interface UnitState {
  id: string;
  loadState: string; // loaded, not-found, masked...
  activeState: string; // active, inactive, failed...
  subState: string;
  unitFileState: string; // enabled, disabled, static, masked, '' when not found
  fragmentPath: string;
  dropInPaths: string[];
  /** When the main process started (seconds since the epoch); absent when never started. */
  mainStart?: number;
  /** Last change of ActiveState/SubState: for an active unit, its start or its last reload. */
  stateChange?: number;
  /** `success`, or why the last `systemctl reload` failed (`exit-code`, `timeout`...). */
  reloadResult?: string;
}

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** getfacl -p output: the entries as printed (`user:consul:rwx`, `default:user:consul:rw-`). */
export interface AclState {
  entries: string[];
}

export interface ShellResult {
  exitCode: number;
}

/** What a step may ask for. Keys are host paths, package names, unit names... */
export type FactRequest =
  | { kind: 'stat'; path: string }
  | { kind: 'sha256'; path: string }
  | { kind: 'content'; path: string }
  | { kind: 'package'; name: string }
  | { kind: 'aptLists' }
  | { kind: 'unit'; name: string }
  | { kind: 'passwd'; name: string }
  | { kind: 'group'; name: string }
  | { kind: 'acl'; path: string }
  /** Handlers left pending by an earlier apply (a directory beside the lock). */
  | { kind: 'pending'; path: string }
  /** HAProxy's running servers and backends, through the admin socket at `path`. */
  | { kind: 'haproxy'; path: string }
  /** HAProxy's master CLI `show proc` (socket at `path`) and the host clock. */
  | { kind: 'haproxyProc'; path: string }
  /** Modification time of a path, whole seconds since the epoch. */
  | { kind: 'mtime'; path: string }
  /** A guard command (`command` steps' `unless`): only its exit code is kept. */
  | { kind: 'shell'; id: string; script: Sh };

/** Parsed facts of one host. A missing key means "does not exist" (null) or "not asked". */
export interface Facts {
  stat: Map<string, PathStat | null>;
  sha256: Map<string, string | null>;
  /** File contents (only for `content` requests: `line` steps, and every file with --diff). */
  content: Map<string, Buffer | null>;
  package: Map<string, PackageState | null>;
  /** Age in seconds of apt's package lists, null when never updated. */
  aptListsAge: number | null;
  unit: Map<string, UnitState>;
  passwd: Map<string, PasswdEntry | null>;
  group: Map<string, GroupEntry | null>;
  acl: Map<string, AclState | null>;
  shell: Map<string, ShellResult>;
  /** Directory -> names of handlers still pending from an earlier apply. */
  pending: Map<string, string[]>;
  /** Admin socket -> HAProxy's running state, null when it does not answer. */
  haproxy: Map<string, HaproxyRuntime | null>;
  /** Master socket -> master and current worker start times, null when it does not answer. */
  haproxyProc: Map<string, ProcInfo | null>;
  mtime: Map<string, number | null>;
}

export function emptyFacts(): Facts {
  return {
    stat: new Map(),
    sha256: new Map(),
    content: new Map(),
    package: new Map(),
    aptListsAge: null,
    unit: new Map(),
    passwd: new Map(),
    group: new Map(),
    acl: new Map(),
    shell: new Map(),
    pending: new Map(),
    haproxy: new Map(),
    haproxyProc: new Map(),
    mtime: new Map(),
  };
}

/**
 * One collector per fact kind. `script` emits a POSIX sh snippet that prints the facts of
 * all `keys` with as few processes as possible (ideally one); its stdout is captured
 * between framing markers by the engine, so it must not print the marker itself.
 * `parse` is pure and receives exactly that stdout.
 */
export interface FactCollector<V> {
  kind: Exclude<FactRequest['kind'], 'aptLists'> | 'aptLists';
  script(keys: string[]): Sh;
  parse(output: string, keys: string[]): Map<string, V>;
}
