/**
 * A canary secret (from an environment variable) rendered by a template into a 0600 file,
 * provisioned over a real sshd under a temporary root. Every channel an operator or another
 * user of either machine could read is searched for it: stdout and stderr of every run
 * (`apply --diff`, `check --diff` after a drift edit, a failing `validate` whose output is
 * the staged file, PROVISION_DEBUG=1), the `--json` reports, the names of backup files, the
 * sshd log, and `ps -eo args` snapshots taken every 50 ms while the runs go on (controller
 * and host are the same machine here, so they show local AND remote processes). The canary
 * must be found exactly where it belongs: in the managed file, mode 0600.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASK } from '../../src/report/redact.js';
import { runCli, type CliResult } from '../support/cli.js';
import { startSshd, type SshdFixture } from '../support/sshd.js';

const CANARY = `canary-${randomBytes(12).toString('hex')}`;
const ENV = { PROVISION_CANARY: CANARY, PROVISION_DEBUG: '1' };

let fx: SshdFixture;
let dir: string;
const outputs: { what: string; text: string }[] = [];
const snapshots: string[] = [];
let sampler: NodeJS.Timeout | undefined;
let sampling = false;

function sample(): void {
  if (sampling) return; // a slow `ps` must not pile up
  sampling = true;
  execFile('ps', ['-eo', 'args'], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
    sampling = false;
    if (!err) snapshots.push(stdout);
  });
}

async function run(what: string, args: string[]): Promise<CliResult> {
  const r = await runCli(args, { env: ENV, cwd: dir });
  outputs.push({ what: `${what} stdout`, text: r.stdout }, { what: `${what} stderr`, text: r.stderr });
  return r;
}

const secretFile = () => path.join(dir, 'root', 'etc', 'secret.conf');

/**
 * Steps that would carry the canary somewhere another user of the host can read it: each
 * must be refused before connecting, naming the secret and the field (secret-policy.ts).
 */
const REFUSED_SINKS: Record<string, { step: string; message: RegExp }> = {
  // useradd --comment: host argv, the journal's _CMDLINE, /etc/passwd (0644).
  'sink-user-comment': {
    step: `  - user: { name: provision-canary, comment: "svc {{ canary }}" }`,
    message: /^error: playbooks\/sink-user-comment\.yaml:2:\d+: secret `canary` would reach `comment` of `user`: .*\/etc\/passwd/m,
  },
  // A file name anyone can list.
  'sink-file-name': {
    step: `  - file: { dest: "{{ root }}/etc/{{ canary }}.conf", content: "x", mode: '0600' }`,
    message: /^error: playbooks\/sink-file-name\.yaml:2:\d+: secret `canary` would reach `dest` of `file`: a path or name/m,
  },
  // A world-readable file.
  'sink-world-readable': {
    step: `  - template: { src: secret.conf.njk, dest: "{{ root }}/etc/open.conf", mode: '0644' }`,
    message: /^error: playbooks\/sink-world-readable\.yaml:2:\d+: secret `canary` in the content of `template`, whose file has mode 0644/m,
  },
  'sink-no-mode': {
    step: `  - file: { dest: "{{ root }}/etc/open.env", content: "TOKEN={{ canary }}" }`,
    message: /^error: playbooks\/sink-no-mode\.yaml:2:\d+: secret `canary` in the content of `file`, whose file has no `mode`/m,
  },
  // A line in a file whose mode the step does not control.
  'sink-line': {
    step: `  - line: { path: "{{ root }}/etc/app.env", line: "TOKEN={{ canary }}", create: true, mode: '0600' }`,
    message: /^error: playbooks\/sink-line\.yaml:2:\d+: secret `canary` would reach `line` of `line`/m,
  },
  // A validator's command line: host argv.
  'sink-validate': {
    step: `  - file: { dest: "{{ root }}/etc/v.conf", content: "x", mode: '0600', validate: "test {{ canary }} && test -f %s" }`,
    message: /^error: playbooks\/sink-validate\.yaml:2:\d+: secret `canary` would reach `validate` of `file`: a command line/m,
  },
  // A step name: every report.
  'sink-step-name': {
    step: `  - name: "token {{ canary }}"\n    file: { dest: "{{ root }}/etc/n.conf", content: "x", mode: '0600' }`,
    message: /^error: playbooks\/sink-step-name\.yaml:2:\d+: secret `canary` would be in the step name/m,
  },
};

/** Every path under `root` with its mode (names and modes are what other users see). */
async function walk(root: string): Promise<{ file: string; mode: number; isFile: boolean }[]> {
  const out: { file: string; mode: number; isFile: boolean }[] = [];
  for (const e of await readdir(root, { withFileTypes: true })) {
    const file = path.join(root, e.name);
    out.push({ file, mode: (await stat(file)).mode & 0o777, isFile: e.isFile() });
    if (e.isDirectory()) out.push(...(await walk(file)));
  }
  return out;
}

beforeAll(async () => {
  fx = await startSshd();
  dir = await mkdtemp(path.join(os.tmpdir(), 'provision-secrets-'));
  await mkdir(path.join(dir, 'playbooks'));
  await mkdir(path.join(dir, 'templates'));
  await mkdir(path.join(dir, 'inventory'));
  await writeFile(path.join(dir, 'templates', 'secret.conf.njk'), '# managed by provision\ntoken = "{{ canary }}"\nname = {{ host.name }}\n');
  await writeFile(
    path.join(dir, 'playbooks', 'site.yaml'),
    `steps:
  - directory: { path: "{{ root }}/etc", mode: '0755' }
  - name: agent token
    template: { src: secret.conf.njk, dest: "{{ root }}/etc/secret.conf", mode: '0600', backup: true }
`,
  );
  // A validator that prints the staged file (with the secret) and then fails.
  await writeFile(
    path.join(dir, 'playbooks', 'failing.yaml'),
    `steps:
  - name: agent token, rejected by its validator
    template: { src: secret.conf.njk, dest: "{{ root }}/etc/other.conf", mode: '0600', validate: "cat %s; echo 'rejected' >&2; false" }
`,
  );
  await writeFile(
    path.join(dir, 'playbooks', 'secret-in-argv.yaml'),
    `steps:
  - command: { cmd: "logger token={{ canary }}", creates: "{{ root }}/done" }
`,
  );
  await writeFile(
    path.join(dir, 'playbooks', 'secret-in-handler.yaml'),
    `steps:
  - file: { dest: "{{ root }}/etc/announced", content: "x" }
    notify: announce
handlers:
  announce:
    command: { cmd: "logger token={{ canary }}" }
`,
  );
  const inventory = (playbook: string) => `settings:
  known_hosts: ${fx.knownHostsPath}
  lock_file: ${dir}/lock
  download_cache: ${dir}/cache
defaults: { user: root, port: ${fx.port}, identity: ${fx.clientKeyPath} }
secrets:
  canary: { env: PROVISION_CANARY }
hosts:
  web-1: { address: 127.0.0.1, playbooks: [${playbook}], vars: { root: ${dir}/root } }
`;
  for (const [p, body] of Object.entries(REFUSED_SINKS)) await writeFile(path.join(dir, 'playbooks', `${p}.yaml`), `steps:\n${body.step}\n`);
  for (const p of ['site', 'failing', 'secret-in-argv', 'secret-in-handler', ...Object.keys(REFUSED_SINKS)]) await writeFile(path.join(dir, 'inventory', `${p}.yaml`), inventory(p));
  sampler = setInterval(sample, 50);
}, 120_000);

afterAll(async () => {
  if (sampler) clearInterval(sampler);
  await fx?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a secret never leaves the file it belongs in', () => {
  it('apply --diff writes it 0600 and shows it masked', async () => {
    const r = await run('apply', ['apply', 'inventory/site.yaml', '--diff', '--verbose', '--json', 'apply.json']);
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toMatch(/^web-1: \[\+\d+\.\d\d s\] probing/m); // the verbose log is one of the channels checked
    expect(r.stdout).toContain(`+token = "${MASK}"`);
    expect(await readFile(secretFile(), 'utf8')).toBe(`# managed by provision\ntoken = "${CANARY}"\nname = web-1\n`);
    expect((await stat(secretFile())).mode & 0o777).toBe(0o600);
  });

  it('check --diff after a drift edit shows the change, masked (exit 2)', async () => {
    await writeFile(secretFile(), `# managed by provision\ntoken = "${CANARY}"\nname = edited\n`);
    const r = await run('check', ['check', 'inventory/site.yaml', '--diff', '--verbose', '--json', 'check.json']);
    expect(r.code, r.output).toBe(2);
    expect(r.stdout).toContain('-name = edited');
    expect(r.stdout).toContain(`token = "${MASK}"`);
  });

  it('a saved plan of that drift names the secret it depends on, holds no value, is 0600; show prints it', async () => {
    const r = await run('plan', ['plan', 'inventory/site.yaml', '-o', 'plan.json']);
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toContain(`token = "${MASK}"`);
    expect((await stat(path.join(dir, 'plan.json'))).mode & 0o777).toBe(0o600);
    const plan = JSON.parse(await readFile(path.join(dir, 'plan.json'), 'utf8')) as { hosts: { secrets: string[]; changes: { payload_sha256: string }[] }[] };
    expect(plan.hosts[0]!.secrets).toEqual(['canary']);
    expect(plan.hosts[0]!.changes[0]!.payload_sha256).toMatch(/^[0-9a-f]{64}$/);
    const shown = await run('show', ['show', 'plan.json']);
    expect(shown.code, shown.output).toBe(0);
    expect(shown.stdout).toContain('depends on secrets: canary (values not stored)');
  });

  it('apply repairs the drift with a backup whose name holds no secret; the file stays 0600', async () => {
    const r = await run('repair', ['apply', 'inventory/site.yaml', '--diff', '--json', 'repair.json']);
    expect(r.code, r.output).toBe(0);
    const names = await readdir(path.join(dir, 'root', 'etc'));
    const backups = names.filter((n) => n.endsWith('.provision~'));
    expect(backups).toHaveLength(1);
    outputs.push({ what: 'file names under the managed dir', text: names.join('\n') });
    expect(await readFile(path.join(dir, 'root', 'etc', backups[0]!), 'utf8')).toContain('name = edited');
    expect((await stat(path.join(dir, 'root', 'etc', backups[0]!))).mode & 0o777).toBe(0o600);
    expect((await stat(secretFile())).mode & 0o777).toBe(0o600);
    expect(await readFile(secretFile(), 'utf8')).toContain('name = web-1');
  });

  it('a failing validator that prints the staged file: its output is shown masked', async () => {
    const r = await run('failing', ['apply', 'inventory/failing.yaml', '--json', 'failing.json']);
    expect(r.code, r.output).toBe(1);
    expect(r.output).toContain(`token = "${MASK}"`);
    expect(r.output).toContain('rejected');
    const names = await readdir(path.join(dir, 'root', 'etc'));
    expect(names.filter((n) => n.startsWith('other.conf') || n.startsWith('.provision-'))).toEqual([]);
  });

  it('a secret in a command line (visible in ps on the host) is refused before connecting', async () => {
    const before = fx.countSessions();
    const r = await run('argv', ['apply', 'inventory/secret-in-argv.yaml']);
    expect(r.code, r.output).toBe(1);
    expect(r.stderr).toMatch(/^error: playbooks\/secret-in-argv\.yaml:2:\d+: secret `canary` would reach `cmd` of `command`: a command line, readable by every user in the process list/m);
    expect(fx.countSessions()).toBe(before);
  });

  it('so is a secret in a handler\'s command line', async () => {
    const before = fx.countSessions();
    const r = await run('handler-argv', ['apply', 'inventory/secret-in-handler.yaml']);
    expect(r.code, r.output).toBe(1);
    expect(r.stderr).toMatch(/^error: playbooks\/secret-in-handler\.yaml:\d+:\d+: secret `canary` would reach `cmd` of `command`: a command line, readable by every user in the process list/m);
    expect(fx.countSessions()).toBe(before);
  });

  it.each(Object.keys(REFUSED_SINKS))('%s: refused before connecting, naming the secret and the field', async (p) => {
    const before = fx.countSessions();
    const r = await run(p, ['apply', `inventory/${p}.yaml`]);
    expect(r.code, r.output).toBe(1);
    expect(r.stderr).toMatch(REFUSED_SINKS[p]!.message);
    expect(fx.countSessions()).toBe(before);
  });

  it('no file under the managed root has the canary in its name, nor in a world-readable file', async () => {
    const entries = await walk(path.join(dir, 'root'));
    expect(entries.length).toBeGreaterThan(1);
    expect(entries.map((e) => path.basename(e.file)).filter((n) => n.includes(CANARY))).toEqual([]);
    const holders = [];
    for (const e of entries.filter((x) => x.isFile)) if ((await readFile(e.file, 'utf8')).includes(CANARY)) holders.push(e);
    expect(holders.map((h) => h.file)).toContain(secretFile());
    expect(holders.filter((h) => (h.mode & 0o044) !== 0).map((h) => `${h.file} ${h.mode.toString(8)}`)).toEqual([]);
  });

  it('no output, JSON report, file name, sshd log line or process argument ever held the canary', async () => {
    clearInterval(sampler);
    for (const f of ['apply.json', 'check.json', 'plan.json', 'repair.json', 'failing.json']) {
      const text = await readFile(path.join(dir, f), 'utf8');
      expect(text.length).toBeGreaterThan(0);
      outputs.push({ what: f, text });
    }
    outputs.push({ what: 'sshd log', text: fx.log() });
    const leaks = outputs.filter((o) => o.text.includes(CANARY)).map((o) => o.what);
    expect(leaks).toEqual([]);
    // The snapshots did see the runs (the CLI itself), and never the canary.
    expect(snapshots.some((s) => s.includes('dist/cli/provision.js apply'))).toBe(true);
    expect(snapshots.filter((s) => s.includes(CANARY))).toEqual([]);
    // The one place it belongs.
    expect(await readFile(secretFile(), 'utf8')).toContain(CANARY);
  });
});
