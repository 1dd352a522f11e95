/**
 * Fault tests' helpers: the built CLI as a child process the test can watch and signal
 * (Ctrl-C, kill -9), and a small inventory + playbook over a lab's hosts whose steps are
 * driven by vars (a `round` that changes every file, a step that waits for a gate).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Lab } from '../hosts/harness.js';
import { phase, WORK } from '../support/budget.js';
import { CLI, REPO, type CliResult } from '../support/cli.js';

export interface LiveCli {
  child: ChildProcess;
  output(): string;
  /** Resolves once the combined output matches (rejects when the CLI exits first). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<CliResult>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): LiveCli {
  phase(`provision ${args.slice(0, 2).map((a) => path.basename(a)).join(' ')} (watched)`);
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: REPO,
    env: { ...process.env, CI: 'true', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let output = '';
  const waiters: Array<() => void> = [];
  const onData = () => waiters.splice(0).forEach((w) => w());
  child.stdout!.setEncoding('utf8').on('data', (c: string) => ((stdout += c), (output += c), onData()));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => ((stderr += c), (output += c), onData()));
  const timer = setTimeout(() => child.kill('SIGKILL'), WORK.aptApply);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      onData();
      resolve({ code, stdout, stderr, output });
    });
  });
  let exited = false;
  void done.then(() => (exited = true));
  const waitFor = (re: RegExp, timeoutMs: number = WORK.apply) =>
    new Promise<void>((resolve, reject) => {
      phase(`waiting for ${re} in the output of provision ${args[0]}`);
      const give = setTimeout(() => reject(new Error(`timed out waiting for ${re}; output:\n${output}`)), timeoutMs);
      const check = () => {
        if (re.test(output)) {
          clearTimeout(give);
          resolve();
        } else if (exited) {
          clearTimeout(give);
          reject(new Error(`the CLI exited before ${re}; output:\n${output}`));
        } else waiters.push(check);
      };
      check();
    });
  return { child, output: () => output, waitFor, done };
}

/**
 * The fault playbook: a file, a slow step (when `gate` is set: it waits until the test
 * creates `{{ root }}/go-{{ round }}` on the host, so a test injects its fault while the
 * step is known to be running),
 * then two files, the second notifying a handler that appends the round to a log. Every
 * file carries the round, so a new round changes all of them.
 */
export const FAULT_PLAYBOOK = `steps:
  - name: fault dir
    directory: { path: "{{ root }}", mode: "0755" }
  - name: first file
    file: { dest: "{{ root }}/first.conf", content: "round={{ round }}\\n", mode: "0644" }
  - name: slow step
    command: { cmd: "until [ -e {{ root }}/go-{{ round }} ]; do sleep 0.2; done; touch {{ root }}/slow-{{ round }}", creates: "{{ root }}/slow-{{ round }}" }
    when: "gate"
  - name: second file
    file: { dest: "{{ root }}/second.conf", content: "round={{ round }}\\n{{ filler }}", mode: "0644" }
    notify: [record round]
  - name: third file
    file: { dest: "{{ root }}/third.conf", content: "round={{ round }}\\n", mode: "0644" }
handlers:
  record round:
    command: { cmd: "echo {{ round }} >> {{ root }}/handled.log" }
`;

export interface FaultInventory {
  /** Inventory host name -> address, or address and port (hosts that fail on purpose too). */
  hosts: Record<string, string | { address: string; port: number }>;
  round: number;
  gate?: boolean;
  /** Extra content for the second file (disk-full test). */
  filler?: string;
  forks?: number;
  connectTimeout?: number;
}

/** Writes playbooks/faults.yaml (once) and an inventory named `name` under `dir`. */
export async function writeFaultInventory(lab: Lab, dir: string, name: string, inv: FaultInventory): Promise<string> {
  await mkdir(path.join(dir, 'playbooks'), { recursive: true });
  await writeFile(path.join(dir, 'playbooks', 'faults.yaml'), FAULT_PLAYBOOK);
  const hosts = Object.entries(inv.hosts)
    .map(([n, a]) => (typeof a === 'string' ? `  ${n}: { address: ${a} }` : `  ${n}: { address: ${a.address}, port: ${a.port} }`))
    .join('\n');
  const file = path.join(dir, `${name}.yaml`);
  await writeFile(
    file,
    `settings:
  known_hosts: ${lab.knownHostsPath}
  playbooks_dir: ${path.join(dir, 'playbooks')}
  forks: ${inv.forks ?? 10}
defaults:
  user: root
  identity: ${lab.sshKeyPath}
  connect_timeout: ${inv.connectTimeout ?? 10}
vars:
  root: /srv/fault
  round: ${inv.round}
  gate: ${inv.gate ?? false}
  filler: ${JSON.stringify(inv.filler ?? '')}
groups:
  all_hosts: { hosts: [${Object.keys(inv.hosts).join(', ')}], playbooks: [faults] }
hosts:
${hosts}
`,
  );
  return file;
}
