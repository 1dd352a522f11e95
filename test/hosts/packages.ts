/**
 * The one declared list of Debian packages that the test suite, the demo and the
 * benchmark use on the controller: every command they run on this machine, mapped to
 * the package that ships it. Test global setup (`npm test`), `npm run demo` and
 * `npm run bench` install whatever is missing with apt-get before anything else runs.
 *
 * Adding a command is one line here. test/unit/controller-packages.test.ts scans test/,
 * bench/ and the scripts src/ runs, and fails when a command is neither here nor shipped
 * by one of Debian's Essential packages (coreutils, findutils, util-linux, passwd, ...,
 * present on every Debian system), so a missing package is caught at review, not on a
 * fresh machine.
 */
import { spawnSync } from 'node:child_process';

/** command -> Debian package, for the suite and the demo. */
export const CONTROLLER_COMMANDS: Readonly<Record<string, string>> = {
  'apt-get': 'apt',
  curl: 'curl',
  getfacl: 'acl',
  setfacl: 'acl',
  ip: 'iproute2',
  ss: 'iproute2',
  journalctl: 'systemd',
  systemctl: 'systemd',
  'systemd-analyze': 'systemd',
  mmdebstrap: 'mmdebstrap',
  openssl: 'openssl',
  ps: 'procps',
  pgrep: 'procps',
  ssh: 'openssh-client',
  'ssh-add': 'openssh-client',
  'ssh-agent': 'openssh-client',
  'ssh-keygen': 'openssh-client',
  sshd: 'openssh-server',
  shellcheck: 'shellcheck', // checks the remote sh library (sh/*.sh) in test/unit/sh/
  strace: 'strace', // counts the processes a host runs per step (test/unit/sh/processes.test.ts, bench/processes.ts)
  sudo: 'sudo',
  visudo: 'sudo',
  'systemd-nspawn': 'systemd-container',
  unzip: 'unzip',
  chromium: 'chromium', // the real browser the watch page's test drives (playwright-core)
};

/** command -> Debian package, for `npm run bench` only (not installed by `npm test`). */
export const BENCH_COMMANDS: Readonly<Record<string, string>> = {
  'ansible-playbook': 'ansible-core',
  time: 'time',
  python3: 'python3',
};

/**
 * Python module -> Debian package, for `npm run bench` only: what pyinfra 3 imports from
 * Debian (bench/pyinfra.ts builds its virtualenv over the system's site-packages).
 */
export const BENCH_PYTHON_MODULES: Readonly<Record<string, string>> = {
  venv: 'python3-venv',
  setuptools: 'python3-setuptools',
  gevent: 'python3-gevent',
  paramiko: 'python3-paramiko',
  click: 'python3-click',
  jinja2: 'python3-jinja2',
  dateutil: 'python3-dateutil',
  distro: 'python3-distro',
};

/** The README's prerequisites, not Debian packages of this list: Node.js 20+ and npm. */
export const PREREQUISITE_COMMANDS: readonly string[] = ['node', 'npm', 'npx'];

export type PackageScope = 'test' | 'bench';

export function controllerPackages(scope: PackageScope = 'test'): string[] {
  const commands = scope === 'bench' ? { ...CONTROLLER_COMMANDS, ...BENCH_COMMANDS, ...BENCH_PYTHON_MODULES } : CONTROLLER_COMMANDS;
  return [...new Set(Object.values(commands))].sort();
}

/** The packages of `wanted` that dpkg does not report as installed (one dpkg-query). */
export function missingPackages(wanted: readonly string[]): string[] {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package}\t${db:Status-Abbrev}\n', ...wanted], { encoding: 'utf8' });
  const installed = new Set(
    (r.stdout ?? '')
      .split('\n')
      .map((line) => line.split('\t'))
      .filter(([, status]) => status?.startsWith('ii'))
      .map(([name]) => name!.replace(/:.*$/, '')),
  );
  return wanted.filter((p) => !installed.has(p));
}

/** apt-get waits for another apt/dpkg run (up to 10 min) instead of failing on its lock. */
const APT_OPTIONS = ['-o', 'DPkg::Lock::Timeout=600', '-y', '-q', '--no-install-recommends'];

function aptGet(args: string[]): { ok: boolean; output: string } {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const r = spawnSync('apt-get', args, { encoding: 'utf8', env });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/**
 * Installs every package of the scope that is missing. A machine that has them all never
 * touches apt. Not root: throws with the exact command to run. Stale or empty package
 * lists (a fresh machine): one `apt-get update`, then the install again.
 */
export function ensureControllerPackages(opts: { scope?: PackageScope; log?: (line: string) => void } = {}): void {
  const missing = missingPackages(controllerPackages(opts.scope));
  if (missing.length === 0) return;
  const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing Debian packages on this machine; install them as root: ${command}`);
  }
  opts.log?.(`installing controller packages: ${missing.join(' ')}`);
  const install = ['install', ...APT_OPTIONS, ...missing];
  let r = aptGet(install);
  if (!r.ok) {
    const update = aptGet(['update', '-q', '-o', 'DPkg::Lock::Timeout=600']);
    if (!update.ok) throw new Error(`apt-get update failed:\n${update.output.trim()}`);
    r = aptGet(install);
  }
  if (!r.ok) throw new Error(`${command} failed:\n${r.output.trim().split('\n').slice(-15).join('\n')}`);
  const still = missingPackages(missing);
  if (still.length) throw new Error(`${command} finished but ${still.join(', ')} is still not installed`);
}
