/**
 * The declared list of controller packages (test/hosts/packages.ts) covers every command
 * the suite, the demo and the benchmark run on this machine. A command that is neither on
 * the list nor shipped by a package every Debian system has (Essential or Priority
 * required: coreutils, util-linux, passwd, mount, apt, ...) fails here, naming the file
 * and line that runs it, so the next missing package is caught at review.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BENCH_COMMANDS,
  CONTROLLER_COMMANDS,
  PREREQUISITE_COMMANDS,
  controllerPackages,
  missingPackages,
} from '../hosts/packages.js';
import { controllerCommandUses, scriptCommandUses, shellCommandWords, type CommandUse } from '../support/spawned-commands.js';

/** Executables shipped by the packages every Debian 12 system has (read from dpkg's own records). */
function baseSystemCommands(): Set<string> {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package}\t${Essential}\t${Priority}\n'], { encoding: 'utf8' });
  const base = r.stdout
    .split('\n')
    .map((l) => l.split('\t'))
    .filter(([, essential, priority]) => essential === 'yes' || priority === 'required')
    .map(([name]) => name!);
  const out = new Set<string>();
  for (const pkg of base) {
    const list = [`/var/lib/dpkg/info/${pkg}.list`, `/var/lib/dpkg/info/${pkg}:amd64.list`].find(existsSync);
    if (!list) continue;
    for (const path of readFileSync(list, 'utf8').split('\n')) {
      if (/^\/(usr\/)?s?bin\/[^/]+$/.test(path)) out.add(basename(path));
    }
  }
  return out;
}

const BASE = baseSystemCommands();
const DECLARED = { ...CONTROLLER_COMMANDS, ...BENCH_COMMANDS };
/** The probe and apply scripts' sources: src's generators and the remote sh library (sh/*.sh). */
const SCRIPT_SOURCES = ['src/resources', 'src/engine', 'src/transport/remote-exec.ts', ...readdirSync('sh').filter((f) => f.endsWith('.sh')).map((f) => `sh/${f}`)];

/** A command from the base system, possibly through an alternative (awk -> mawk). */
function isBase(command: string): boolean {
  if (BASE.has(command)) return true;
  for (const dir of ['/usr/bin', '/usr/sbin', '/bin', '/sbin']) {
    const p = `${dir}/${command}`;
    if (existsSync(p) && BASE.has(basename(realpathSync(p)))) return true;
  }
  return false;
}

function undeclared(uses: CommandUse[], declared: Record<string, string>): string[] {
  return uses
    .filter((u) => !(u.command in declared) && !PREREQUISITE_COMMANDS.includes(u.command) && !isBase(u.command))
    .map((u) => `${u.at}: runs \`${u.command}\`, which is not in test/hosts/packages.ts (add \`${u.command}: 'PACKAGE'\`)`);
}

describe('controller packages: the declared list covers every command run on this machine', () => {
  it('reads dpkg: the base system is known (coreutils, util-linux, passwd)', () => {
    for (const c of ['cat', 'mount', 'useradd', 'flock', 'sh']) expect(isBase(c), c).toBe(true);
    for (const c of ['visudo', 'getfacl', 'sshd', 'mmdebstrap', 'ip', 'dig']) expect(isBase(c), c).toBe(false);
  });

  it('finds the commands in shell text, past assignments, sudo and env', () => {
    expect(shellCommandWords('X=1 sudo -n systemctl reload haproxy && getfacl -p -- /d | grep -Fx a; $(id -u)')).toEqual([
      'sudo',
      'systemctl',
      'getfacl',
      'grep',
      'id',
    ]);
    expect(shellCommandWords('if [ -e /x ]; then _commit a; fi')).toEqual([]);
  });

  it('finds what the test harness and the tests spawn (the commands the issue names among them)', () => {
    const found = new Set(controllerCommandUses(['test']).map((u) => u.command));
    for (const c of ['visudo', 'setfacl', 'sshd', 'mmdebstrap', 'systemd-nspawn', 'ip', 'ssh-keygen', 'useradd', 'unzip']) {
      expect(found.has(c), c).toBe(true);
    }
  });

  it('every command that test/ spawns is declared for the suite', () => {
    expect(undeclared(controllerCommandUses(['test']), CONTROLLER_COMMANDS)).toEqual([]);
  });

  it('every command that bench/ spawns is declared (suite or bench scope)', () => {
    expect(undeclared(controllerCommandUses(['bench']), DECLARED)).toEqual([]);
  });

  it('every command in the probe and apply scripts (run in a local sh by the unit tests) is declared', () => {
    const uses = scriptCommandUses(SCRIPT_SOURCES, (c) => c in DECLARED);
    expect(uses.map((u) => u.command)).toContain('getfacl');
    expect(undeclared(uses, CONTROLLER_COMMANDS)).toEqual([]);
  });

  it('every declared command is run somewhere (the list does not rot)', () => {
    const used = new Set(
      [
        ...controllerCommandUses(['test', 'bench']),
        ...scriptCommandUses(SCRIPT_SOURCES, (c) => c in DECLARED),
      ].map((u) => u.command),
    );
    expect(Object.keys(DECLARED).filter((c) => !used.has(c))).toEqual([]);
  });

  it('the list names each package once per scope, and the suite scope leaves the bench-only ones out', () => {
    const suite = controllerPackages('test');
    expect(suite).toContain('sudo');
    expect(suite).toContain('acl');
    expect(suite).not.toContain('ansible-core');
    expect(controllerPackages('bench')).toContain('ansible-core');
    expect(new Set(suite).size).toBe(suite.length);
  });

  it('after the global setup, every package of the suite scope is installed', () => {
    expect(missingPackages(controllerPackages('test'))).toEqual([]);
  });
});
