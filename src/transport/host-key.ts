/**
 * Host key verification policy, OpenSSH's rules:
 *   revoked            -> refuse, always
 *   known and equal    -> accept
 *   same type, differs -> refuse (CHANGED), whatever the policy
 *   unknown            -> strict: refuse; accept-new: record in the first known_hosts file
 * A host known only with keys of other types is "unknown" for the offered type, as in
 * OpenSSH; we also ask ssh2 to negotiate the recorded types first so that this only
 * happens when the server really lacks them.
 *
 * ssh2 only reports "Host denied (verification failed)", so the verifier keeps the
 * reason and the connect code throws it as a HostKeyError.
 */
import { HostKeyError } from '../config/errors.js';
import type { SshTarget } from './connection.js';
import {
  appendKnownHost,
  fingerprint,
  hostString,
  keyTypeOf,
  loadKnownHosts,
  lookup,
  type KeyEntry,
  type LookupResult,
} from './known-hosts.js';

/** What accept-new recorded, so the CLI can print the fingerprint. */
export interface NewHostKey {
  host: string;
  address: string;
  port: number;
  keyType: string;
  fingerprint: string;
  file: string;
}

export type HostKeyDecision =
  | { action: 'accept' }
  | { action: 'record'; keyType: string; fingerprint: string; file: string }
  | { action: 'refuse'; error: HostKeyError };

/** `lb-1 (10.0.0.11:22)`: inventory name plus where we actually connect. */
export function hostLabel(target: Pick<SshTarget, 'name' | 'address' | 'port'>): string {
  return `${target.name} (${target.address}:${target.port})`;
}

/** The command that removes a stale entry; brackets are shell globs, so quote them. */
function removeCommand(address: string, port: number, file: string): string {
  const q = (s: string) => (/^[A-Za-z0-9_@%+=:,./~-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return `ssh-keygen -R ${q(hostString(address, port))} -f ${q(file)}`;
}

/** The pure decision for the key the server offered; no I/O. */
export function decideHostKey(
  target: Pick<SshTarget, 'name' | 'address' | 'port' | 'knownHostsFiles' | 'hostKeyPolicy' | 'expectFingerprint'>,
  known: LookupResult,
  offered: Buffer,
): HostKeyDecision {
  const label = hostLabel(target);
  const got = fingerprint(offered);
  const type = keyTypeOf(offered) ?? 'unknown';

  // The operator's out-of-band fingerprint overrides everything, known_hosts included.
  if (target.expectFingerprint !== undefined && got !== target.expectFingerprint) {
    return refuse(
      `host key of ${label} is ${type} ${got}, not the expected ${target.expectFingerprint}; ` +
        'refusing to connect before sending any credential',
    );
  }

  const revoked = known.revoked.find((e) => e.key.equals(offered));
  if (revoked) {
    return refuse(
      `host key ${got} for ${label} is REVOKED (${revoked.file}:${revoked.line}); refusing to connect`,
    );
  }
  if (known.keys.some((e) => e.key.equals(offered))) return { action: 'accept' };

  const sameType = known.keys.filter((e) => e.keyType === type);
  const old = sameType[0];
  if (old) {
    return refuse(
      `host key for ${label} CHANGED: expected ${fingerprint(old.key)}, got ${got}; ` +
        `if the change is expected, remove the old entry with \`${removeCommand(target.address, target.port, old.file)}\``,
      `${type} key recorded at ${old.file}:${old.line}`,
    );
  }

  const file = target.knownHostsFiles[0];
  if (target.hostKeyPolicy === 'accept-new' && file !== undefined) {
    return { action: 'record', keyType: type, fingerprint: got, file };
  }
  const where = file ?? '~/.ssh/known_hosts';
  const others = known.keys.length > 0 ? ` (known with other key types: ${[...new Set(known.keys.map((e) => e.keyType))].join(', ')})` : '';
  return refuse(
    `unknown host key ${got} for ${label}${others}; verify it and add it to ${where} ` +
      '(or run `provision bootstrap`, or set host_key_policy: accept-new)',
  );
}

function refuse(message: string, detail?: string): HostKeyDecision {
  return { action: 'refuse', error: new HostKeyError(message, detail) };
}

/** ssh2 algorithm names that can carry each known_hosts key type. */
const ALGORITHMS_FOR_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  'ssh-dss': ['ssh-dss'],
};

/** ssh2's default preference (lib/protocol/constants.js), ssh-dss left out as it is there. */
export const DEFAULT_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/**
 * Host key algorithms in the order to offer them: the types recorded for this host first
 * (in default order), then the rest, like OpenSSH's `order_hostkeyalgs`.
 */
export function hostKeyAlgorithms(known: readonly KeyEntry[]): string[] {
  const preferred = new Set<string>();
  for (const e of known) for (const a of ALGORITHMS_FOR_TYPE[e.keyType] ?? []) preferred.add(a);
  const all = [...DEFAULT_HOST_KEY_ALGORITHMS];
  for (const a of preferred) if (!all.includes(a)) all.push(a);
  return [...all.filter((a) => preferred.has(a)), ...all.filter((a) => !preferred.has(a))];
}

export interface HostKeyCheck {
  /** For ssh2's `hostVerifier` (async form: it calls `verify`). */
  verifier: (key: Buffer, verify: (ok: boolean) => void) => void;
  /** For ssh2's `algorithms.serverHostKey`. */
  serverHostKey: string[];
  /** Why the last key was refused, if it was. */
  refusal(): HostKeyError | null;
}

export interface HostKeyCheckOptions {
  /** Called after accept-new recorded a key. */
  onNewHostKey?: (info: NewHostKey) => void;
}

/** Loads the target's known_hosts files and builds the verifier for one connection. */
export async function prepareHostKeyCheck(
  target: SshTarget,
  options: HostKeyCheckOptions = {},
): Promise<HostKeyCheck> {
  const entries = await loadKnownHosts(target.knownHostsFiles);
  const known = lookup(entries, target.address, target.port);
  let refused: HostKeyError | null = null;

  const verifier = (key: Buffer, verify: (ok: boolean) => void): void => {
    const decision = decideHostKey(target, known, key);
    if (decision.action === 'accept') return verify(true);
    if (decision.action === 'refuse') {
      refused = decision.error;
      return verify(false);
    }
    appendKnownHost(decision.file, target.address, target.port, decision.keyType, key.toString('base64')).then(
      () => {
        options.onNewHostKey?.({
          host: target.name,
          address: target.address,
          port: target.port,
          keyType: decision.keyType,
          fingerprint: decision.fingerprint,
          file: decision.file,
        });
        verify(true);
      },
      (err: unknown) => {
        refused = new HostKeyError(
          `cannot record host key ${decision.fingerprint} for ${hostLabel(target)} in ${decision.file}: ${(err as Error).message}`,
        );
        verify(false);
      },
    );
  };

  return { verifier, serverHostKey: hostKeyAlgorithms(known.keys), refusal: () => refused };
}
