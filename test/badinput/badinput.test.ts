/**
 * The bad-input corpus: every directory under cases/ is a small project (inventory.yaml,
 * playbooks/, templates/, files/) with one mistake, and `expected.txt` holds exactly what
 * the built CLI must print on stderr for it: one `error: FILE:LINE:COL: problem (fix)` line
 * per error (a count line after several). Optional files: `args` (extra CLI arguments),
 * `env` (NAME=VALUE lines; the values must never be printed: they are secrets) and `chmod`
 * (MODE FILE lines, applied before the run: git keeps no modes but the executable bit).
 *
 * `validate` must exit 1 with that exact output, nothing on stdout and no stack trace.
 * For a sample, `apply` must fail identically before connecting anywhere: the inventory's
 * port is pointed at a listener here that counts connection attempts (it must see none;
 * a control case with the mistake fixed shows the counter works).
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { chmodSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../support/cli.js';

const CASES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cases');
const NAMES = readdirSync(CASES).filter((n) => /^\d+-/.test(n)).sort();

/** Cases also run through `apply`: YAML, references, templates, secrets, shell safety, --limit. */
const APPLY = [
  '01-yaml-unclosed-flow-map',
  '03-duplicate-host',
  '09-group-includes-itself',
  '15-secret-env-unset',
  '22-limit-matches-nothing',
  '35-include-cycle',
  '38-mode-unquoted',
  '44-user-name-metachar',
  '48-template-undefined-var',
  '49-template-syntax-error',
  '66-secret-in-bad-value',
  '72-limit-empty',
  '76-secret-in-user-comment',
  '78-secret-in-world-readable-template',
  '83-secret-playbook-var-clash',
  '85-secret-file-world-readable',
  '87-service-restarted-in-step',
  '88-yaml-complex-key',
  '90-yaml-alias-bomb',
  '92-template-not-utf8',
  '96-two-steps-same-path',
  '99-validate-set-cmd-typo',
  '104-playbook-is-a-directory',
];

/** --limit mistakes: refused by every command that selects hosts, before connecting. */
const LIMIT_CASES = ['72-limit-empty', '73-limit-only-commas', '74-limit-empty-item', '75-limit-excludes-everything'];
const SELECTING_COMMANDS = ['apply', 'check', 'bootstrap', 'hosts'];

interface Case {
  dir: string;
  expected: string;
  args: string[];
  env: Record<string, string>;
}

function loadCase(name: string, dir = path.join(CASES, name)): Case {
  const opt = (f: string) => (existsSync(path.join(dir, f)) ? readFileSync(path.join(dir, f), 'utf8') : '');
  const env: Record<string, string> = {};
  for (const line of opt('env').split('\n').filter(Boolean)) {
    const eq = line.indexOf('=');
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  for (const line of opt('chmod').split('\n').filter(Boolean)) {
    const [mode, file] = line.split(/\s+/);
    chmodSync(path.join(dir, file!), parseInt(mode!, 8));
  }
  return { dir, expected: readFileSync(path.join(dir, 'expected.txt'), 'utf8'), args: opt('args').split(/\s+/).filter(Boolean), env };
}

/** What every failing run must look like, whatever the command. */
function expectCleanFailure(r: CliResult, c: Case): void {
  expect(r.stderr).toBe(c.expected);
  expect(r.stdout).toBe('');
  expect(r.code, r.output).toBe(1);
  expect(r.output).not.toMatch(/^\s+at /m);
  expect(r.output).not.toContain('cannot connect');
  for (const secret of Object.values(c.env)) expect(r.output).not.toContain(secret);
}

describe('bad input corpus (validate)', () => {
  it('holds at least 40 cases, each with an expected message naming file:line:col or the flag', () => {
    expect(NAMES.length).toBeGreaterThanOrEqual(40);
    for (const name of NAMES) {
      const c = loadCase(name);
      const lines = c.expected.split('\n').slice(0, -1);
      expect(lines.length, name).toBeGreaterThan(0);
      const errors = lines.filter((l) => l.startsWith('error: '));
      // One line per error; several errors end with their count.
      if (errors.length > 1) expect(lines, name).toEqual([...errors, `${errors.length} errors; nothing was changed`]);
      else expect(lines, name).toEqual(errors);
      for (const l of errors) {
        if (c.args.some((a) => a === '--limit' || a.startsWith('--limit='))) expect(l, name).toMatch(/^error: --limit /);
        else expect(l, name).toMatch(/^error: (inventory\.yaml|playbooks\/[\w-]+\.yaml|templates\/[\w.-]+):\d+:\d+: \S/);
      }
    }
  });

  // One at a time: each is a whole node process, and the machine has two cores.
  describe.each(NAMES)('%s', (name) => {
    it('validate: exit 1, the exact message, no stack trace', async () => {
      const c = loadCase(name);
      const r = await runCli(['validate', 'inventory.yaml', ...c.args], { cwd: c.dir, env: c.env });
      expectCleanFailure(r, c);
    });
  });
});

describe('bad input corpus (apply): the same message, no connection attempt', () => {
  let server: net.Server;
  let port: number;
  let connections = 0;
  let tmp: string;

  beforeAll(async () => {
    server = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
    tmp = await mkdtemp(path.join(os.tmpdir(), 'provision-badinput-'));
  });

  afterAll(async () => {
    server?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  /** A copy of the case whose hosts' port is the counting listener. */
  async function copyCase(name: string, edit: (inventory: string) => string = (s) => s, as = name): Promise<Case> {
    const dir = path.join(tmp, as);
    await cp(path.join(CASES, name), dir, { recursive: true });
    const inv = path.join(dir, 'inventory.yaml');
    const text = await readFile(inv, 'utf8');
    expect(text).toContain('defaults: { port: 1 }');
    await writeFile(inv, edit(text.replace('defaults: { port: 1 }', `defaults: { port: ${port} }`)));
    return loadCase(name, dir);
  }

  it.each(APPLY)('%s', async (name) => {
    const c = await copyCase(name);
    const before = connections;
    const r = await runCli(['apply', 'inventory.yaml', ...c.args], { cwd: c.dir, env: c.env });
    expectCleanFailure(r, c);
    expect(connections - before).toBe(0);
  });

  it.each(LIMIT_CASES.flatMap((n) => SELECTING_COMMANDS.map((cmd) => [n, cmd] as const)))('%s: `%s` refuses it too', async (name, cmd) => {
    const c = await copyCase(name, undefined, `${name}-${cmd}`);
    const before = connections;
    const r = await runCli([cmd, 'inventory.yaml', ...c.args], { cwd: c.dir, env: c.env });
    expectCleanFailure(r, c);
    expect(connections - before).toBe(0);
  });

  it('control: the same project with the mistake fixed does connect (the counter works)', async () => {
    const key = path.join(tmp, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const c = await copyCase('38-mode-unquoted', (inv) => inv.replace(/defaults: \{ port: (\d+) \}/, `defaults: { port: $1, identity: ${key} }`), 'control');
    await writeFile(path.join(c.dir, 'playbooks', 'site.yaml'), 'steps:\n  - file: { dest: /etc/motd, content: "hi\\n", mode: "0644" }\n');
    const before = connections;
    const r = await runCli(['apply', 'inventory.yaml'], { cwd: c.dir, env: { HOME: tmp } });
    expect(r.code, r.output).toBe(1);
    expect(connections - before).toBeGreaterThan(0);
    expect(r.output).toContain('web-1: unreachable');
  });
});
