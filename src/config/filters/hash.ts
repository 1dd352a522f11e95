/**
 * `hash` (Ansible: hex digest, SHA-1 by default) and `password_hash` (crypt(3) SHA-256 /
 * SHA-512, glibc's "$5$" / "$6$" format, 5000 rounds unless told). A salt is required:
 * Ansible draws a random one when none is given, which rewrites the file on every run; a
 * converging tool cannot do that.
 */
import { createHash } from 'node:crypto';
import { arg, FilterError, splitArgs } from './args.js';

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

const ORDER: Record<'sha256' | 'sha512', number[][]> = {
  sha256: [[0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14], [15, 25, 5], [6, 16, 26], [27, 7, 17], [18, 28, 8], [9, 19, 29], [-1, 31, 30]],
  sha512: [
    [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48], [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10],
    [53, 11, 32], [12, 33, 54], [34, 55, 13], [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41], [-1, -1, 63],
  ],
};

/** `n` bytes of `block` repeated (the spec's "for each block of the length" sequences). */
function repeatTo(block: Buffer, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = block[i % block.length]!;
  return out;
}

/** Ulrich Drepper's SHA-crypt, as glibc's crypt(3) computes it. */
export function shaCrypt(algo: 'sha256' | 'sha512', password: string, saltIn: string, rounds = 5000): string {
  const H = (...parts: Buffer[]): Buffer => {
    const h = createHash(algo);
    for (const p of parts) h.update(p);
    return h.digest();
  };
  const P = Buffer.from(password, 'utf8');
  const S = Buffer.from(saltIn.slice(0, 16), 'utf8');
  const B = H(P, S, P);
  const a = createHash(algo).update(P).update(S).update(repeatTo(B, P.length));
  for (let n = P.length; n > 0; n >>= 1) a.update(n & 1 ? B : P);
  let C = a.digest();
  const Pp = repeatTo(H(...Array<Buffer>(P.length).fill(P)), P.length);
  const Sp = repeatTo(H(...Array<Buffer>(16 + C[0]!).fill(S)), S.length);
  for (let i = 0; i < rounds; i++) {
    const h = createHash(algo);
    h.update(i & 1 ? Pp : C);
    if (i % 3) h.update(Sp);
    if (i % 7) h.update(Pp);
    h.update(i & 1 ? C : Pp);
    C = h.digest();
  }
  let out = '';
  for (const [i, j, k] of ORDER[algo]) {
    let w = ((i! < 0 ? 0 : C[i!]!) << 16) | ((j! < 0 ? 0 : C[j!]!) << 8) | C[k!]!;
    const chars = i! >= 0 ? 4 : j! >= 0 ? 3 : 2;
    for (let c = 0; c < chars; c++, w >>= 6) out += ITOA64[w & 0x3f];
  }
  const id = algo === 'sha256' ? '5' : '6';
  return `$${id}$${rounds === 5000 ? '' : `rounds=${rounds}$`}${S.toString('utf8')}$${out}`;
}

export const hashFilters = {
  hash(value: unknown, ...rest: unknown[]): string {
    const algo = String(arg(splitArgs(rest), 0, 'hashtype', 'sha1'));
    try {
      return createHash(algo).update(String(value), 'utf8').digest('hex');
    } catch {
      throw new FilterError(`hash: unknown algorithm \`${algo}\` (md5, sha1, sha256, sha512, ...)`);
    }
  },
  password_hash(value: unknown, ...rest: unknown[]): string {
    const a = splitArgs(rest);
    const scheme = String(arg(a, 0, 'hashtype', 'sha512'));
    const salt = arg<string | undefined>(a, 1, 'salt', undefined);
    const rounds = Number(arg(a, 2, 'rounds', 5000));
    const algo = scheme === 'sha512' || scheme === 'sha512_crypt' ? 'sha512' : scheme === 'sha256' || scheme === 'sha256_crypt' ? 'sha256' : undefined;
    if (!algo) throw new FilterError(`password_hash: \`${scheme}\` is not supported (sha512 or sha256)`);
    if (salt === undefined || salt === null) throw new FilterError("password_hash needs a salt (password_hash('sha512', 'SALT')): a random one would change the file on every run");
    if (!/^[./0-9A-Za-z]{1,16}$/.test(String(salt))) throw new FilterError('password_hash: the salt is 1 to 16 characters of [./0-9A-Za-z]');
    return shaCrypt(algo, String(value), String(salt), rounds);
  },
};
