/** Identity files are parsed once per run, and a changed file is parsed again. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import type { ParsedKey, PublicKeyAuthMethod } from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import { planAuth } from '../../../src/transport/auth.js';

const dir = mkdtempSync(path.join(tmpdir(), 'provision-auth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeKey(file: string): void {
  writeFileSync(file, ssh2.utils.generateKeyPairSync('ed25519').private, { mode: 0o600 });
}

async function keyOf(file: string): Promise<ParsedKey> {
  const plan = await planAuth({ user: 'root', identityFiles: [file], useAgent: false }, {});
  const method = plan.methods[0] as PublicKeyAuthMethod;
  expect(method.type).toBe('publickey');
  return method.key as ParsedKey;
}

describe('identity file parsing', () => {
  it('hands ssh2 the parsed key, the same object for every host of a run', async () => {
    const file = path.join(dir, 'id_ed25519');
    writeKey(file);
    const first = await keyOf(file);
    expect(first.type).toBe('ssh-ed25519');
    expect(await keyOf(file)).toBe(first);
  });

  it('parses the file again when its bytes changed', async () => {
    const file = path.join(dir, 'id_rotated');
    writeKey(file);
    const before = await keyOf(file);
    writeKey(file);
    const after = await keyOf(file);
    expect(after).not.toBe(before);
    expect(after.getPublicSSH().equals(before.getPublicSSH())).toBe(false);
  });
});
