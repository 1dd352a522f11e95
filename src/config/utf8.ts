/**
 * Strict UTF-8 for everything read as text (inventories, playbooks, templates, secret
 * files). Node's `readFile(f, 'utf8')` turns an invalid byte into U+FFFD without a word,
 * and that replacement character would then be provisioned; here invalid input is an
 * error naming the first bad byte's offset, line and column.
 */
import { isUtf8 } from 'node:buffer';
import { ConfigError, type SourcePos } from './errors.js';

/** Offset of the first byte that is not part of a valid UTF-8 sequence, or -1. */
export function firstInvalidUtf8(data: Buffer): number {
  if (isUtf8(data)) return -1;
  let i = 0;
  while (i < data.length) {
    const b = data[i]!;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (len === 0 || i + len > data.length) return i;
    // The second byte's range is narrower for E0/ED/F0/F4 (overlongs, surrogates, > U+10FFFF).
    const lo = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
    const hi = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k < len; k++) {
      const c = data[i + k]!;
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i;
    }
    i += len;
  }
  return -1;
}

/** Where the first invalid byte is: its offset, line and column (1-based). */
export function invalidUtf8At(data: Buffer): { offset: number; line: number; col: number } | undefined {
  const offset = firstInvalidUtf8(data);
  if (offset < 0) return undefined;
  const before = data.subarray(0, offset).toString('utf8');
  return { offset, line: before.split('\n').length, col: before.length - before.lastIndexOf('\n') };
}

/**
 * The text of `data` (a file shown as `file`), or a ConfigError pointing at its first
 * invalid byte. `what` names the file's role in the message.
 */
export function decodeUtf8(data: Buffer, file: string, what: string): string {
  const bad = invalidUtf8At(data);
  if (!bad) return data.toString('utf8');
  const pos: SourcePos = { file, line: bad.line, col: bad.col };
  const byte = data[bad.offset]!.toString(16).padStart(2, '0');
  throw new ConfigError(`${what} is not valid UTF-8 (byte 0x${byte} at offset ${bad.offset})`, pos, 'save it as UTF-8; binary content belongs in a `file` step with `src`, which is copied byte for byte');
}
