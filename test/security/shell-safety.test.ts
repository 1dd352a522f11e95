/**
 * Every value reaching the remote shell is quoted: over a real sshd, a file whose path AND
 * content hold quotes, `$`, backticks, `$(...)`, newlines and spaces lands with exactly those
 * bytes at exactly that path (and nothing the shell could have run did run); the next apply
 * and check see it converged, so the probe parsed that path too. Names that become command
 * arguments (user, group, package, unit) are refused by `validate` when they hold shell
 * metacharacters.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startSshd, type SshdFixture } from '../support/sshd.js';

let fx: SshdFixture;
let dir: string;

// Each of these would run something if it ever reached a shell unquoted.
const NAME = `we ird 'single' "double" $HOME \`touch PWNED-tick\` $(touch PWNED-sub)\nsecond line;touch PWNED-semi`;
const CONTENT = `a 'b' "c" $HOME \`touch PWNED-c1\` $(touch PWNED-c2) \\n not a newline\nreal newline\t\ttabs\n  $((1+1)) '\\''\n`;

/** A YAML double-quoted scalar holding exactly `s` (JSON strings are valid YAML). */
const yq = (s: string) => JSON.stringify(s);

beforeAll(async () => {
  fx = await startSshd();
  dir = await mkdtemp(path.join(os.tmpdir(), 'provision-shell-'));
  await mkdir(path.join(dir, 'playbooks'));
  await mkdir(path.join(dir, 'inventory'));
  await mkdir(path.join(dir, 'root'));
  await writeFile(
    path.join(dir, 'playbooks', 'site.yaml'),
    `steps:
  - directory: { path: "{{ root }}/d", mode: '0755' }
  - file:
      dest: ${yq(`{{ root }}/d/${NAME}`)}
      content: ${yq(CONTENT)}
      mode: '0640'
      backup: true
`,
  );
  await writeFile(
    path.join(dir, 'playbooks', 'names.yaml'),
    `steps:
  - user: { name: "app;touch /tmp/x" }
  - group: { name: "ops\`id\`" }
  - apt: { packages: ["curl$(id)"] }
  - service: { name: "haproxy && reboot", state: started }
`,
  );
  const inv = (playbook: string) => `settings:
  known_hosts: ${fx.knownHostsPath}
  lock_file: ${dir}/lock
  download_cache: ${dir}/cache
defaults: { user: root, port: ${fx.port}, identity: ${fx.clientKeyPath} }
hosts:
  web-1: { address: 127.0.0.1, playbooks: [${playbook}], vars: { root: ${yq(path.join(dir, 'root'))} } }
`;
  await writeFile(path.join(dir, 'inventory', 'site.yaml'), inv('site'));
  await writeFile(path.join(dir, 'inventory', 'names.yaml'), inv('names'));
}, 120_000);

afterAll(async () => {
  await fx?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Any file a shell-injected `touch PWNED-*` would have created, wherever the cwd was. */
async function pwned(): Promise<string[]> {
  const found: string[] = [];
  for (const d of [dir, path.join(dir, 'root'), path.join(dir, 'root', 'd'), os.homedir(), '/']) {
    for (const n of await readdir(d).catch(() => [])) if (n.startsWith('PWNED')) found.push(path.join(d, n));
  }
  return found;
}

describe('shell safety over a real sshd', () => {
  it('provisions a file whose path and content hold quotes, $, backticks, newlines and spaces', async () => {
    const r = await runCli(['apply', 'inventory/site.yaml'], { cwd: dir });
    expect(r.code, r.output).toBe(0);
    expect(await readdir(path.join(dir, 'root', 'd'))).toEqual([NAME]);
    const file = path.join(dir, 'root', 'd', NAME);
    expect(await readFile(file)).toEqual(Buffer.from(CONTENT, 'utf8'));
    expect((await stat(file)).mode & 0o777).toBe(0o640);
    expect(await pwned()).toEqual([]);
  });

  it('the next apply changes nothing and check exits 0: the probe read that path back', async () => {
    const again = await runCli(['apply', 'inventory/site.yaml'], { cwd: dir });
    expect(again.code, again.output).toBe(0);
    expect(again.output).not.toMatch(/changed /);
    const check = await runCli(['check', 'inventory/site.yaml'], { cwd: dir });
    expect(check.code, check.output).toBe(0);
  });

  it('drift on that file is found and repaired, the backup keeps the odd name', async () => {
    const file = path.join(dir, 'root', 'd', NAME);
    await writeFile(file, 'edited\n');
    expect((await runCli(['check', 'inventory/site.yaml'], { cwd: dir })).code).toBe(2);
    const fix = await runCli(['apply', 'inventory/site.yaml'], { cwd: dir });
    expect(fix.code, fix.output).toBe(0);
    expect(await readFile(file)).toEqual(Buffer.from(CONTENT, 'utf8'));
    const names = await readdir(path.join(dir, 'root', 'd'));
    expect(names).toHaveLength(2);
    expect(names).toContain(NAME);
    const backup = names.find((n) => n !== NAME)!;
    expect(backup.startsWith(`${NAME}.`) && backup.endsWith('.provision~')).toBe(true);
    expect(await readFile(path.join(dir, 'root', 'd', backup), 'utf8')).toBe('edited\n');
    expect(await pwned()).toEqual([]);
  });

  it('user, group, package and unit names with shell metacharacters are refused by validate', async () => {
    const before = fx.countSessions();
    const r = await runCli(['validate', 'inventory/names.yaml'], { cwd: dir });
    expect(r.code, r.output).toBe(1);
    expect(r.stderr.split('\n')).toEqual([
      'error: playbooks/names.yaml:2:19: not a valid user or group name: use letters, digits, `_` and `-`, starting with a letter or `_`',
      'error: playbooks/names.yaml:3:20: not a valid user or group name: use letters, digits, `_` and `-`, starting with a letter or `_`',
      'error: playbooks/names.yaml:4:23: not a Debian package name: use lowercase letters, digits, `+`, `-` and `.`, optionally pinned as `name=version`',
      'error: playbooks/names.yaml:5:22: not a valid unit name: use letters, digits and `@._:-`, e.g. `haproxy` or `consul.service`',
      '4 errors; nothing was changed',
      '',
    ]);
    expect(fx.countSessions()).toBe(before);
  });
});
