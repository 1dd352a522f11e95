/**
 * The base image every test host boots from: Debian 12 minbase with systemd, sshd and
 * the .deb files of every package the playbooks install, so `apt-get install` works in
 * containers that cannot reach any mirror.
 *
 * Cached under /var/cache/provision-test (or $PROVISION_TEST_CACHE), keyed by the package
 * list, the recipe version and the ISO week: apt lists are at most a week old, and a new
 * package list rebuilds. Built in a temporary directory and renamed when complete, so an
 * interrupted build never leaves a half image behind.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { removeTreeSafely } from './cleanup.js';
import { pidAlive, run, sleep } from './exec.js';

/** Bump when the build steps below change, so cached images built the old way are replaced. */
const RECIPE_VERSION = 2;

export const DEFAULT_IMAGE_PACKAGES = [
  'haproxy',
  'dnsmasq',
  'acl',
  'sudo',
  'socat',
  'curl',
  'bind9-dnsutils',
  'ca-certificates',
] as const;

const INCLUDED = 'systemd,systemd-sysv,dbus,openssh-server,iproute2,ca-certificates';

export interface BuildImageOptions {
  /** Extra packages whose .debs the image caches (added to the defaults). */
  packages?: string[];
  log?: (line: string) => void;
}

export function imageCacheRoot(): string {
  return process.env.PROVISION_TEST_CACHE ?? '/var/cache/provision-test';
}

/** ISO 8601 week, e.g. 2025-W21: the image's maximum age. */
export function isoWeek(date: Date = new Date()): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day); // the Thursday of this week decides the year
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

export function imagePackages(extra: readonly string[] = []): string[] {
  return [...new Set([...DEFAULT_IMAGE_PACKAGES, ...extra])].sort();
}

export function imageKey(packages: readonly string[], week: string = isoWeek()): string {
  const hash = createHash('sha256')
    .update(JSON.stringify({ recipe: RECIPE_VERSION, packages: [...packages].sort() }))
    .digest('hex')
    .slice(0, 12);
  return `bookworm-${week}-${hash}`;
}

/** Returns the directory of a complete base image, building it when the cache has none. */
export async function buildBaseImage(opts: BuildImageOptions = {}): Promise<string> {
  const log = opts.log ?? (() => undefined);
  const packages = imagePackages(opts.packages);
  const root = imageCacheRoot();
  const key = imageKey(packages);
  const finalDir = join(root, key);
  if (existsSync(join(finalDir, 'etc', 'os-release'))) {
    log(`base image: cached ${finalDir}`);
    return finalDir;
  }
  await mkdir(root, { recursive: true });
  await removeAbandonedBuilds(root);
  // Two test files starting together would build the same image twice: the second waits.
  if (!(await takeBuildLock(root, key, log))) {
    if (existsSync(join(finalDir, 'etc', 'os-release'))) return finalDir;
    return buildBaseImage(opts); // the other builder failed: try ourselves
  }
  try {
    return await buildLocked(root, key, packages, log);
  } finally {
    await rm(lockPath(root, key), { force: true });
  }
}

const lockPath = (root: string, key: string): string => join(root, `.lock-${key}`);

/** True when we hold the lock; false after waiting for a live holder to finish. */
async function takeBuildLock(root: string, key: string, log: (line: string) => void): Promise<boolean> {
  const path = lockPath(root, key);
  for (;;) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (!holder || !pidAlive(holder)) {
      await rm(path, { force: true });
      continue;
    }
    log(`base image: waiting for pid ${holder}, which is building it`);
    while (existsSync(path) && pidAlive(holder)) await sleep(1_000);
    return false;
  }
}

async function buildLocked(
  root: string,
  key: string,
  packages: string[],
  log: (line: string) => void,
): Promise<string> {
  const finalDir = join(root, key);
  if (existsSync(join(finalDir, 'etc', 'os-release'))) return finalDir; // built while we waited
  const buildDir = join(root, `.build-${key}-${process.pid}`);
  await removeTreeSafely(buildDir);
  const started = Date.now();
  try {
    log(`base image: mmdebstrap bookworm into ${buildDir}`);
    await run(
      'mmdebstrap',
      ['--variant=minbase', `--include=${INCLUDED}`, 'bookworm', buildDir],
      { onLine: (l) => log(`  ${l}`) },
    );
    await cachePackages(buildDir, packages, log);
    await configureImage(buildDir);
    try {
      await rename(buildDir, finalDir);
    } catch (err) {
      // Another run finished the same image first: use theirs.
      if (!existsSync(join(finalDir, 'etc', 'os-release'))) throw err;
      await removeTreeSafely(buildDir);
    }
  } catch (err) {
    await removeTreeSafely(buildDir).catch(() => undefined);
    throw err;
  }
  log(`base image: built ${finalDir} in ${Math.round((Date.now() - started) / 1000)} s`);
  await pruneOldImages(root, key, log);
  return finalDir;
}

/** apt-get update + download-only inside the image, with /proc bound only for the duration. */
async function cachePackages(dir: string, packages: string[], log: (line: string) => void): Promise<void> {
  await rm(join(dir, 'etc', 'resolv.conf'), { force: true });
  await copyFile('/etc/resolv.conf', join(dir, 'etc', 'resolv.conf'));
  const proc = join(dir, 'proc');
  await run('mount', ['--bind', '/proc', proc]);
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' };
    log('base image: apt-get update');
    await run('chroot', [dir, 'apt-get', 'update'], { env });
    log(`base image: downloading ${packages.join(' ')}`);
    await run('chroot', [dir, 'apt-get', 'install', '--download-only', '-y', ...packages], { env });
    // postinst normally enables it; make it explicit since every test depends on it.
    await run('chroot', [dir, 'systemctl', 'enable', 'ssh.service'], { env });
  } finally {
    await run('umount', [proc], { allowFail: true }).then(async (r) => {
      if (r.exitCode !== 0) await run('umount', ['-l', proc], { allowFail: true });
    });
  }
}

/**
 * Host keys are generated per host at boot time, so none may be shared through the base
 * image; sshd offers only the ed25519 key, which is what known_hosts records.
 */
async function configureImage(dir: string): Promise<void> {
  const sshDir = join(dir, 'etc', 'ssh');
  for (const name of await readdir(sshDir)) {
    if (name.startsWith('ssh_host_')) await rm(join(sshDir, name), { force: true });
  }
  await writeFile(
    join(sshDir, 'sshd_config.d', '10-provision-test.conf'),
    [
      '# provision test host: key-only root login, one host key (written per host)',
      'HostKey /etc/ssh/ssh_host_ed25519_key',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'UseDNS no',
      '',
    ].join('\n'),
  );
  // The containers have no route to any resolver; a resolv.conf naming one only slows lookups.
  await rm(join(dir, 'etc', 'resolv.conf'), { force: true });
  await writeFile(join(dir, 'etc', 'resolv.conf'), '# test host: no upstream resolver\n');
}

/** Build directories of runs that died mid-build. */
async function removeAbandonedBuilds(root: string): Promise<void> {
  for (const name of await readdir(root)) {
    const m = /^\.build-.*-(\d+)$/.exec(name);
    if (m && !pidAlive(Number(m[1]))) await removeTreeSafely(join(root, name));
  }
}

/** Older images (about 400 MB each), unless a running lab still has one as an overlay lower dir. */
async function pruneOldImages(root: string, keep: string, log: (line: string) => void): Promise<void> {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  for (const name of await readdir(root)) {
    if (name === keep || !name.startsWith('bookworm-')) continue;
    const dir = join(root, name);
    if (mounts.includes(`lowerdir=${dir}`)) continue;
    log(`base image: removing old ${dir}`);
    await removeTreeSafely(dir);
  }
}
