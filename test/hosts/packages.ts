/**
 * Controller-side Debian packages the harness needs. Checked with dpkg-query first so a
 * machine that already has them never touches apt; installed with apt-get only as root.
 */
import { ProvisionError } from '../../src/config/errors.js';
import { run } from './exec.js';

/**
 * mmdebstrap builds the image, systemd-container gives systemd-nspawn, curl is used by
 * tests, chromium is the real browser the watch page's test drives (playwright-core).
 */
export const HARNESS_PACKAGES = [
  'mmdebstrap',
  'systemd-container',
  'iproute2',
  'openssh-client',
  'dnsutils',
  'curl',
  'chromium',
] as const;

export async function missingHarnessPackages(): Promise<string[]> {
  const missing: string[] = [];
  for (const pkg of HARNESS_PACKAGES) {
    const r = await run('dpkg-query', ['-W', '-f=${db:Status-Abbrev}', pkg], { allowFail: true });
    if (r.exitCode !== 0 || !r.stdout.startsWith('ii')) missing.push(pkg);
  }
  return missing;
}

export async function ensureHarnessPackages(log?: (line: string) => void): Promise<void> {
  const missing = await missingHarnessPackages();
  if (missing.length === 0) return;
  const command = `apt-get install -y ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new ProvisionError(
      'E_HARNESS',
      `the test harness needs packages that are not installed; run as root: ${command}`,
    );
  }
  log?.(`installing controller packages: ${missing.join(' ')}`);
  await run('apt-get', ['install', '-y', ...missing], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}
