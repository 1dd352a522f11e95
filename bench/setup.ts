/** What the benchmark needs on the controller: the declared list (test/hosts/packages.ts), bench scope. */
import { spawnSync } from 'node:child_process';
import { ensureControllerPackages } from '../test/hosts/packages.js';

export function ensureTools(log: (line: string) => void): void {
  ensureControllerPackages({ scope: 'bench', log });
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
