/** What the benchmark needs on the controller, installed from Debian's packages when missing. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const NEEDED: { path: string; pkg: string }[] = [
  { path: '/usr/bin/ansible-playbook', pkg: 'ansible-core' },
  { path: '/usr/sbin/sshd', pkg: 'openssh-server' },
  { path: '/usr/bin/ssh', pkg: 'openssh-client' },
  { path: '/usr/bin/time', pkg: 'time' },
];

export function ensureTools(log: (line: string) => void): void {
  const missing = [...new Set(NEEDED.filter((n) => !existsSync(n.path)).map((n) => n.pkg))];
  if (!missing.length) return;
  const cmd = ['apt-get', 'install', '-y', '--no-install-recommends', ...missing];
  if (process.getuid?.() !== 0) throw new Error(`missing packages; install them with: sudo ${cmd.join(' ')}`);
  log(`installing ${missing.join(', ')} (${cmd.join(' ')})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync(cmd[0]!, cmd.slice(1), { stdio: 'inherit', env });
  } catch {
    // Stale package lists: refresh once and retry.
    execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
    execFileSync(cmd[0]!, cmd.slice(1), { stdio: 'inherit', env });
  }
}

export function toolVersions(): Record<string, string> {
  // First line of stdout, else of stderr (ssh -V prints there).
  const first = (cmd: string, args: string[]): string => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return ((r.stdout || r.stderr || '?').split('\n')[0] ?? '').trim();
  };
  return {
    node: process.version,
    ansible: first('ansible-playbook', ['--version']),
    python: first('python3', ['--version']),
    openssh: first('ssh', ['-V']),
  };
}
