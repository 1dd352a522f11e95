import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostKeyError } from '../../src/config/errors.js';
import { decideHostKey, DEFAULT_HOST_KEY_ALGORITHMS, hostKeyAlgorithms } from '../../src/transport/host-key.js';
import { lookup, parseKnownHosts } from '../../src/transport/known-hosts.js';

const FILE = join(import.meta.dirname, 'fixtures', 'known_hosts');
const entries = parseKnownHosts(readFileSync(FILE, 'utf8'), FILE);
const K1 = entries[0]!.key; // ed25519 of lb-1
const K2 = entries[1]!.key; // rsa
const K3 = entries[4]!.key; // ed25519, revoked everywhere
const FP_K1 = 'SHA256:uvOQio6WP0j8jCbljh/Yr3colyT+hgQikTo/oyw8mwg';
const FP_K3 = 'SHA256:IE3PgEQZhZNEhS7mMWcTLtChJMEGVggBf+d6SET+pCQ';

const target = (address: string, port: number, hostKeyPolicy: 'strict' | 'accept-new' = 'strict') => ({
  name: 'lb-1',
  address,
  port,
  knownHostsFiles: ['/home/ops/.ssh/known_hosts'],
  hostKeyPolicy,
});

function refusal(d: ReturnType<typeof decideHostKey>): HostKeyError {
  if (d.action !== 'refuse') throw new Error(`expected a refusal, got ${d.action}`);
  return d.error;
}

describe('decideHostKey', () => {
  it('accepts the recorded key', () => {
    expect(decideHostKey(target('10.0.0.11', 22), lookup(entries, '10.0.0.11', 22), K1)).toEqual({ action: 'accept' });
  });

  it('refuses a revoked key even under accept-new', () => {
    const e = refusal(decideHostKey(target('10.0.0.11', 22, 'accept-new'), lookup(entries, '10.0.0.11', 22), K3));
    expect(e.message).toBe(`host key ${FP_K3} for lb-1 (10.0.0.11:22) is REVOKED (${FILE}:8); refusing to connect`);
    expect(e.code).toBe('E_HOSTKEY');
  });

  it('refuses a changed key of the same type with both fingerprints and the removal command', () => {
    const known = lookup(entries, '10.0.1.12', 22); // 10.0.1.?? -> K1 (ed25519)
    // Same type (ed25519), different key material.
    const fresh = Buffer.from(K1);
    fresh.writeUInt8(fresh.readUInt8(fresh.length - 1) ^ 0xff, fresh.length - 1);
    const e = refusal(decideHostKey({ ...target('10.0.1.12', 22, 'accept-new'), name: 'lb-9' }, known, fresh));
    expect(e.message).toMatch(
      new RegExp(`^host key for lb-9 \\(10\\.0\\.1\\.12:22\\) CHANGED: expected ${FP_K1.replace(/[+/]/g, '\\$&')}, got SHA256:\\S+; if the change is expected, remove the old entry with \`ssh-keygen -R 10\\.0\\.1\\.12 -f ${FILE}\`$`),
    );
  });

  it('quotes [host]:port in the removal command', () => {
    const fresh = Buffer.from(K2);
    fresh.writeUInt8(fresh.readUInt8(fresh.length - 1) ^ 0xff, fresh.length - 1);
    const e = refusal(decideHostKey(target('10.0.0.12', 2222), lookup(entries, '10.0.0.12', 2222), fresh));
    expect(e.message).toContain(`\`ssh-keygen -R '[10.0.0.12]:2222' -f ${FILE}\``);
  });

  it('treats a key of a type not recorded as unknown: strict refuses, accept-new records', () => {
    const known = lookup(entries, '10.0.0.11', 22); // only ed25519 recorded
    const e = refusal(decideHostKey(target('10.0.0.11', 22), known, K2));
    expect(e.message).toBe(
      'unknown host key SHA256:HIjEAV4gxVLAk6IkNSkCOHPKABnL4sbiN6VRacZBf9M for lb-1 (10.0.0.11:22) (known with other key types: ssh-ed25519); ' +
        'verify it and add it to /home/ops/.ssh/known_hosts (or run `provision bootstrap`, or set host_key_policy: accept-new)',
    );
    expect(decideHostKey(target('10.0.0.11', 22, 'accept-new'), known, K2)).toEqual({
      action: 'record',
      keyType: 'ssh-rsa',
      fingerprint: 'SHA256:HIjEAV4gxVLAk6IkNSkCOHPKABnL4sbiN6VRacZBf9M',
      file: '/home/ops/.ssh/known_hosts',
    });
  });
});

describe('hostKeyAlgorithms', () => {
  it('puts the recorded types first, rsa as its sha2 variants', () => {
    const rsaOnly = lookup(entries, '10.0.0.12', 2222).keys;
    expect(hostKeyAlgorithms(rsaOnly).slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(hostKeyAlgorithms(rsaOnly)).toHaveLength(DEFAULT_HOST_KEY_ALGORITHMS.length);
    expect(hostKeyAlgorithms([])).toEqual(DEFAULT_HOST_KEY_ALGORITHMS);
  });
});
