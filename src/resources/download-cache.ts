/**
 * Controller-side downloads: fetched once per run (concurrent hosts share the promise),
 * verified against the expected SHA-256, cached on disk under their hash (a cache hit is
 * re-verified), written atomically so an interrupted fetch never poisons the cache.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ProvisionError } from '../config/errors.js';

export class DownloadCache {
  private readonly inflight = new Map<string, Promise<Buffer>>();
  constructor(private readonly dir: string) {}

  get(url: string, sha256: string): Promise<Buffer> {
    const key = `${sha256}\0${url}`;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.fetchVerified(url, sha256);
      this.inflight.set(key, p);
    }
    return p;
  }

  private async fetchVerified(url: string, want: string): Promise<Buffer> {
    const file = path.join(this.dir, want);
    const cached = await readFile(file).catch(() => null);
    if (cached && hash(cached) === want) return cached;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
    } catch (e) {
      throw new ProvisionError('E_DOWNLOAD', `cannot download ${url}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`);
    }
    if (!res.ok) throw new ProvisionError('E_DOWNLOAD', `cannot download ${url}: HTTP ${res.status}`);
    const data = Buffer.from(await res.arrayBuffer());
    const got = hash(data);
    if (got !== want) {
      throw new ProvisionError('E_DOWNLOAD', `checksum mismatch for ${url}: expected sha256 ${want}, got ${got}; nothing was installed (fix \`sha256\` only if you trust the new file)`);
    }
    await mkdir(this.dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, data);
    await rename(tmp, file);
    return data;
  }
}

function hash(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
