/**
 * Packs the stand-in binaries (bin/consul, bin/consul-template) into zips named like
 * HashiCorp's releases, so the end-to-end tests exercise the real `download` path
 * (fetch, SHA-256 check, extract one member). Production downloads HashiCorp's zips.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';

const BIN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'bin');

export const CONSUL_VERSION = '1.20.1';
export const CONSUL_TEMPLATE_VERSION = '0.39.1';

export interface StandinZip {
  /** Absolute path of the zip written in outDir. */
  file: string;
  /** Hex SHA-256 of the zip, what the inventory's `consul_sha256` must hold. */
  sha256: string;
  /** File name only, to append to the server's URL. */
  urlName: string;
}

export interface StandinZips {
  consul: StandinZip;
  consulTemplate: StandinZip;
}

// Fixed timestamp: the same script gives the same zip, hence the same SHA-256.
const MTIME = new Date('2024-01-01T00:00:00Z');

async function packOne(outDir: string, member: string, urlName: string): Promise<StandinZip> {
  const body = await readFile(join(BIN_DIR, member));
  // attrs: Unix mode in the high 16 bits (0100755 = regular file, rwxr-xr-x); os 3 = Unix,
  // so unzip (and the download step's extractor) restores the executable bit.
  const zip = zipSync(
    { [member]: [new Uint8Array(body), { attrs: (0o100755 << 16) >>> 0, os: 3, mtime: MTIME }] },
    { level: 6 },
  );
  const file = join(outDir, urlName);
  await writeFile(file, zip);
  const sha256 = createHash('sha256').update(zip).digest('hex');
  return { file, sha256, urlName };
}

/** Writes both release-named zips into outDir and returns their paths and checksums. */
export async function buildStandinZips(outDir: string): Promise<StandinZips> {
  await mkdir(outDir, { recursive: true });
  const consul = await packOne(outDir, 'consul', `consul_${CONSUL_VERSION}_linux_amd64.zip`);
  const consulTemplate = await packOne(
    outDir,
    'consul-template',
    `consul-template_${CONSUL_TEMPLATE_VERSION}_linux_amd64.zip`,
  );
  return { consul, consulTemplate };
}
