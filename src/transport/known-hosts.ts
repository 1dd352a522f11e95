/**
 * OpenSSH known_hosts files: a pure parser, a host lookup with OpenSSH's matching rules,
 * `ssh-keygen -lf`-style fingerprints, and an atomic append for trust-on-first-use.
 *
 * Format (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"):
 *   [@revoked|@cert-authority] patterns keytype base64 [comment]
 * where patterns is a comma list of host names / `[host]:port`, with `*`, `?` wildcards and
 * `!` negation, or a single hashed entry `|1|base64(salt)|base64(hmac-sha1(salt, host))`.
 */
import { createHash, createHmac } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** How an entry names its hosts: a pattern list, or one hashed host string. */
export type HostMatcher =
  | { kind: 'patterns'; patterns: string[] }
  | { kind: 'hashed'; salt: Buffer; hash: Buffer };

export interface KeyEntry {
  marker: 'revoked' | null;
  hosts: HostMatcher;
  /** The key type written in the file, e.g. `ssh-ed25519`, `ssh-rsa`. */
  keyType: string;
  keyBase64: string;
  /** The decoded key blob (SSH wire format), what the server sends. */
  key: Buffer;
  comment: string;
  /** Where the entry came from, for messages (`ssh-keygen -R ... -f FILE`). */
  file: string;
  line: number;
}

export interface LookupResult {
  /** Keys recorded for this host (not revoked). */
  keys: KeyEntry[];
  /** Revoked keys that apply to this host. */
  revoked: KeyEntry[];
}

/**
 * The string OpenSSH matches patterns and hashes against: `host` for port 22,
 * `[host]:port` otherwise.
 */
export function hostString(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** `SHA256:` + unpadded base64 of the blob's SHA-256, exactly as `ssh-keygen -lf` prints. */
export function fingerprint(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

/** The key type stored at the start of an SSH key blob (`string` = uint32 length + bytes). */
export function keyTypeOf(keyBlob: Buffer): string | null {
  if (keyBlob.length < 4) return null;
  const len = keyBlob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > keyBlob.length) return null;
  return keyBlob.subarray(4, 4 + len).toString('latin1');
}

/**
 * Parses one file's text. Malformed lines are skipped, as OpenSSH does (a broken line
 * must not make every host unverifiable); `@cert-authority` lines are ignored because
 * we do not verify host certificates.
 */
export function parseKnownHosts(text: string, file = '<known_hosts>'): KeyEntry[] {
  const entries: KeyEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const entry = parseLine(lines[i] ?? '', file, i + 1);
    if (entry) entries.push(entry);
  }
  return entries;
}

function parseLine(raw: string, file: string, line: number): KeyEntry | null {
  const text = raw.trim();
  if (text === '' || text.startsWith('#')) return null;
  const fields = text.split(/\s+/);
  let marker: 'revoked' | null = null;
  if (fields[0]?.startsWith('@')) {
    const m = fields.shift();
    if (m === '@revoked') marker = 'revoked';
    else return null; // @cert-authority or an unknown marker
  }
  const [hostField, keyType, keyBase64, ...rest] = fields;
  if (!hostField || !keyType || !keyBase64) return null;
  const hosts = parseHostField(hostField);
  if (!hosts) return null;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keyBase64)) return null;
  const key = Buffer.from(keyBase64, 'base64');
  // The blob must say the same type as the line, or the line is corrupt.
  if (keyTypeOf(key) !== keyType) return null;
  return { marker, hosts, keyType, keyBase64, key, comment: rest.join(' '), file, line };
}

function parseHostField(field: string): HostMatcher | null {
  if (field.startsWith('|')) {
    const m = /^\|1\|([A-Za-z0-9+/=]+)\|([A-Za-z0-9+/=]+)$/.exec(field);
    if (!m) return null;
    const salt = Buffer.from(m[1]!, 'base64');
    const hash = Buffer.from(m[2]!, 'base64');
    if (salt.length !== 20 || hash.length !== 20) return null;
    return { kind: 'hashed', salt, hash };
  }
  const patterns = field.split(',').filter((p) => p !== '');
  return patterns.length > 0 ? { kind: 'patterns', patterns } : null;
}

/** OpenSSH `match_pattern`: `*` any run, `?` one character; case-insensitive for hosts. */
export function matchPattern(subject: string, pattern: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(subject);
}

/**
 * OpenSSH `match_hostname` over a pattern list: any negated match vetoes the entry,
 * otherwise one positive match suffices.
 */
function matchPatternList(subject: string, patterns: readonly string[]): boolean {
  let positive = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (matchPattern(subject, p.slice(1))) return false;
    } else if (matchPattern(subject, p)) {
      positive = true;
    }
  }
  return positive;
}

export function entryMatchesHost(entry: KeyEntry, host: string, port: number): boolean {
  const subject = hostString(host, port);
  if (entry.hosts.kind === 'patterns') return matchPatternList(subject, entry.hosts.patterns);
  const mac = createHmac('sha1', entry.hosts.salt).update(subject).digest();
  return mac.equals(entry.hosts.hash);
}

export function lookup(entries: readonly KeyEntry[], host: string, port: number): LookupResult {
  const keys: KeyEntry[] = [];
  const revoked: KeyEntry[] = [];
  for (const e of entries) {
    if (!entryMatchesHost(e, host, port)) continue;
    (e.marker === 'revoked' ? revoked : keys).push(e);
  }
  return { keys, revoked };
}

/** Reads and parses every file in order; a missing file is simply empty. */
export async function loadKnownHosts(files: readonly string[]): Promise<KeyEntry[]> {
  const all: KeyEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    all.push(...parseKnownHosts(text, file));
  }
  return all;
}

/**
 * Appends one plain entry with a single write on an O_APPEND descriptor, so concurrent
 * runs recording different hosts never interleave half lines. Creates the directory
 * (0700) and the file (0600) when missing.
 */
export async function appendKnownHost(
  file: string,
  host: string,
  port: number,
  keyType: string,
  keyBase64: string,
): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const fh = await open(file, fsc.O_RDWR | fsc.O_APPEND | fsc.O_CREAT, 0o600);
  try {
    // If the last line lacks its newline, ours must not be glued onto it.
    const { size } = await fh.stat();
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await fh.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n';
    }
    await fh.write(`${prefix}${hostString(host, port)} ${keyType} ${keyBase64}\n`);
  } finally {
    await fh.close();
  }
}
