/** Config files are read carefully: regular files only, bounded, strict UTF-8, errors in words. */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { displayPath } from '../../../src/config/paths.js';
import { MAX_CONFIG_BYTES, readConfigText } from '../../../src/config/read-text.js';
import { firstInvalidUtf8, invalidUtf8At } from '../../../src/config/utf8.js';

let dir: string;
const from = { file: 'inventory.yaml', line: 7, col: 5 };

async function refusal(p: Promise<unknown>): Promise<ConfigError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(ConfigError);
  return e as ConfigError;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'provision-read-text-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('readConfigText', () => {
  it('refuses a FIFO at once instead of waiting on it', async () => {
    const fifo = path.join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    const e = await refusal(readConfigText(fifo, 'inventory'));
    expect(e.shortMessage).toBe(`${displayPath(fifo)}:1:1: inventory ${displayPath(fifo)} is not a regular file (a FIFO) (name a file; devices, FIFOs and sockets are refused)`);
  });

  it('refuses a device such as /dev/zero', async () => {
    const e = await refusal(readConfigText('/dev/zero', 'playbook', from));
    expect(e.shortMessage).toBe('inventory.yaml:7:5: playbook /dev/zero is not a regular file (a device) (name a file; devices, FIFOs and sockets are refused)');
  });

  it('refuses a file larger than any config file', async () => {
    const big = path.join(dir, 'big.yaml');
    await writeFile(big, Buffer.alloc(MAX_CONFIG_BYTES + 1, 0x61));
    const e = await refusal(readConfigText(big, 'inventory'));
    expect(e.problem).toMatch(/^inventory .*big\.yaml is 4\.0 MiB, more than the 4 MiB such a file may have$/);
  });

  it('says "is a directory" at the place naming it, not EISDIR', async () => {
    const sub = path.join(dir, 'site.yaml');
    await mkdir(sub);
    const e = await refusal(readConfigText(sub, 'playbook', from));
    expect(e.shortMessage).toBe(`inventory.yaml:7:5: playbook ${displayPath(sub)} is a directory, not a file`);
  });

  it('points at the first invalid UTF-8 byte, with its offset', async () => {
    const bad = path.join(dir, 'bad.yaml');
    await writeFile(bad, Buffer.concat([Buffer.from('a: 1\nb: "caf'), Buffer.from([0xe9]), Buffer.from('"\n')]));
    const e = await refusal(readConfigText(bad, 'playbook'));
    expect(e.shortMessage).toMatch(/bad\.yaml:2:8: playbook is not valid UTF-8 \(byte 0xe9 at offset 12\)/);
  });
});

describe('firstInvalidUtf8', () => {
  it('accepts valid text and finds overlongs, surrogates, truncated and stray bytes', () => {
    expect(firstInvalidUtf8(Buffer.from('héllo → 𝄞', 'utf8'))).toBe(-1);
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xc0, 0xaf]))).toBe(1); // overlong '/'
    expect(firstInvalidUtf8(Buffer.from([0x61, 0x62, 0xed, 0xa0, 0x80]))).toBe(2); // a surrogate
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xe2, 0x82]))).toBe(1); // truncated at the end
    expect(firstInvalidUtf8(Buffer.from([0x80]))).toBe(0); // a lone continuation byte
    expect(firstInvalidUtf8(Buffer.from([0xf4, 0x90, 0x80, 0x80]))).toBe(0); // above U+10FFFF
    expect(invalidUtf8At(Buffer.from('ab\ncd\xff', 'latin1'))).toEqual({ offset: 5, line: 2, col: 3 });
  });
});
