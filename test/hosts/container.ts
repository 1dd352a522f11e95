/**
 * One test host: an overlay over the base image (its own upper dir holds its identity:
 * hostname, machine id, ssh host key, authorized key), booted by systemd-nspawn inside
 * the network namespace prepared for it.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, sleep, spawnDetached } from './exec.js';
import { processRunning } from './cleanup.js';
import { generateKey, readPublicKey, sshRun, type SshFiles } from './ssh.js';

export interface ContainerPaths {
  dir: string;
  upper: string;
  work: string;
  merged: string;
  log: string;
}

export function containerPaths(runDir: string, name: string): ContainerPaths {
  const dir = join(runDir, 'hosts', name);
  return {
    dir,
    upper: join(dir, 'upper'),
    work: join(dir, 'work'),
    merged: join(dir, 'merged'),
    log: join(dir, 'nspawn.log'),
  };
}

export interface HostIdentity {
  name: string;
  /** `name address` pairs of every lab host, for /etc/hosts. */
  peers: ReadonlyArray<{ name: string; address: string }>;
  authorizedKey: string;
}

/**
 * Writes the host's own files into its upper dir before boot and returns its ed25519
 * host public key (`ssh-ed25519 AAAA...`). Directories are created with the modes the
 * base image has, because an upper dir's attributes win in the merged view.
 */
export async function writeHostIdentity(paths: ContainerPaths, id: HostIdentity): Promise<string> {
  const etc = join(paths.upper, 'etc');
  const sshDir = join(etc, 'ssh');
  const rootSsh = join(paths.upper, 'root', '.ssh');
  await mkdir(sshDir, { recursive: true, mode: 0o755 });
  await mkdir(rootSsh, { recursive: true, mode: 0o700 });
  await mkdir(paths.work, { recursive: true });
  await mkdir(paths.merged, { recursive: true });
  await chmod(join(paths.upper, 'root'), 0o700);
  await chmod(rootSsh, 0o700);
  await writeFile(join(rootSsh, 'authorized_keys'), `${id.authorizedKey}\n`, { mode: 0o600 });
  await writeFile(join(etc, 'hostname'), `${id.name}\n`);
  await writeFile(join(etc, 'machine-id'), `${randomBytes(16).toString('hex')}\n`, { mode: 0o444 });
  const peers = id.peers.map((p) => `${p.address}\t${p.name}`).join('\n');
  await writeFile(
    join(etc, 'hosts'),
    `127.0.0.1\tlocalhost\n127.0.1.1\t${id.name}\n::1\tlocalhost ip6-localhost ip6-loopback\n${peers}\n`,
  );
  const keyPath = join(sshDir, 'ssh_host_ed25519_key');
  await generateKey(keyPath, `root@${id.name}`);
  return readPublicKey(`${keyPath}.pub`);
}

export async function mountOverlay(baseDir: string, paths: ContainerPaths): Promise<void> {
  await run('mount', [
    '-t', 'overlay', 'overlay',
    '-o', `lowerdir=${baseDir},upperdir=${paths.upper},workdir=${paths.work}`,
    paths.merged,
  ]);
}

/**
 * Starts `systemd-nspawn --boot` detached (own session: a Ctrl-C in the terminal reaches
 * our handlers, which power it off cleanly, not nspawn directly). Returns its pid.
 * `--register=no --keep-unit`: the controller has no systemd to register with.
 */
export async function startNspawn(
  name: string,
  machine: string,
  paths: ContainerPaths,
  netns: string,
): Promise<number> {
  return spawnDetached(
    'systemd-nspawn',
    [
      '-D', paths.merged,
      '--boot',
      '--register=no',
      '--keep-unit',
      // nspawn keys host-side state (/run/systemd/nspawn/propagate/MACHINE) by machine
      // name: make it unique per run, and give the container its plain name as hostname.
      `--machine=${machine}`,
      `--hostname=${name}`,
      `--network-namespace-path=/run/netns/${netns}`,
    ],
    paths.log,
  );
}

/**
 * Polls `systemctl is-system-running` over ssh (strict host key checking) until the
 * host says running or degraded. Fails early, with the console log, if nspawn exits.
 */
export async function waitUntilBooted(
  ssh: SshFiles,
  name: string,
  address: string,
  nspawnPid: number,
  logPath: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!processRunning(nspawnPid)) {
      throw new Error(`host ${name}: systemd-nspawn exited during boot\n${await logTail(logPath)}`);
    }
    const r = await sshRun(ssh, address, 'systemctl is-system-running', { allowFail: true, timeoutMs: 10_000 });
    const state = r.stdout.trim();
    if (state === 'running' || state === 'degraded') return;
    last = state || r.stderr.trim();
    await sleep(500);
  }
  throw new Error(`host ${name} (${address}) not up after ${timeoutMs / 1000} s (last: ${last})\n${await logTail(logPath)}`);
}

async function logTail(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').slice(-30).join('\n');
}
