/**
 * CI features over a real sshd on loopback, as a CI job runs them: `check --junit
 * --format github` on a drifted fleet (exit code unchanged), a failing apply annotated as
 * an error at its step's line, and a fleet split into `--shard` jobs whose JSON reports
 * `report merge` combines into the one summary and exit code of an unsharded check.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startSshd, type SshdFixture } from '../support/sshd.js';

const HOSTS = ['lb-1', 'lb-2', 'lb-3', 'lb-4', 'lb-5', 'lb-6'];
let fx: SshdFixture;
let dir: string;
let inventory: string;

const root = (h: string) => path.join(dir, 'hosts', h);
const cli = (args: string[]) => runCli(args, { cwd: dir });

beforeAll(async () => {
  fx = await startSshd();
  dir = await mkdtemp(path.join(os.tmpdir(), 'provision-ci-'));
  await mkdir(path.join(dir, 'playbooks'));
  await writeFile(
    path.join(dir, 'playbooks', 'site.yaml'),
    `steps:
  - directory: { path: "{{ root }}/etc" }
  - name: lb config
    file: { dest: "{{ root }}/etc/lb.cfg", content: "maxconn 20\\n" }
  - name: must succeed
    command: { cmd: "test ! -e {{ root }}/break && touch {{ root }}/done", creates: "{{ root }}/done" }
`,
  );
  await mkdir(path.join(dir, 'inventory'));
  inventory = path.join(dir, 'inventory', 'fleet.yaml');
  const hostLines = HOSTS.map((h) => `  ${h}: { address: 127.0.0.1, lock_file: ${dir}/lock-${h}, vars: { root: ${root(h)} } }`).join('\n');
  await writeFile(
    inventory,
    `settings: { known_hosts: ${fx.knownHostsPath} }
defaults: { user: root, port: ${fx.port}, identity: ${fx.clientKeyPath} }
groups:
  lb: { hosts: [${HOSTS.join(', ')}], playbooks: [site] }
hosts:
${hostLines}
`,
  );
}, 120_000);

afterAll(async () => {
  await fx?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('CI reports and shards over a real sshd', () => {
  it('check --junit --format github: exit 2, the drift as a failure with its diff and as a warning on its line', async () => {
    const first = await cli(['apply', inventory]);
    expect(first.code, first.output).toBe(0);
    await writeFile(path.join(root('lb-2'), 'etc/lb.cfg'), 'maxconn 5\n');
    const junit = path.join(dir, 'check.xml');
    const r = await cli(['check', inventory, '--diff', '--junit', junit, '--format', 'github']);
    expect(r.code, r.output).toBe(2);
    const ann = r.stdout.split('\n').filter((l) => l.startsWith('::'));
    expect(ann).toHaveLength(1);
    expect(ann[0]).toMatch(/^::warning file=playbooks\/site\.yaml,line=3,title=lb-2%3A lb config::drift: file .*lb\.cfg: content differs%0A.*-maxconn 5%0A.*\+maxconn 20/);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(/<testsuites name="provision check" tests="18" failures="1" errors="0" skipped="0"/);
    for (const h of HOSTS) expect(xml).toContain(`<testsuite name="${h}" tests="3"`);
    expect(xml).toMatch(/<testcase classname="lb-2" name="lb config" file="[^"]*playbooks\/site\.yaml" line="3" time="0">\s*<failure message="drift: file [^"]*lb\.cfg: content differs" type="drift">[^<]*-maxconn 5\n[^<]*\+maxconn 20/);
    expect(xml).toMatch(/<testcase classname="lb-1" name="lb config" [^>]*\/>/);
  });

  it('apply --format github: a failed step is an error at its line; exit 1 as before', async () => {
    await writeFile(path.join(root('lb-3'), 'break'), '');
    await rm(path.join(root('lb-3'), 'done'), { force: true });
    const junit = path.join(dir, 'apply.xml');
    const r = await cli(['apply', inventory, '--limit', 'lb-3', '--format', 'github', '--junit', junit]);
    expect(r.code, r.output).toBe(1);
    expect(r.stdout).toMatch(/^::error file=playbooks\/site\.yaml,line=5,title=lb-3%3A must succeed::/m);
    expect(await readFile(junit, 'utf8')).toMatch(/<testcase classname="lb-3" name="must succeed" [^>]*line="5"[^>]*>\s*<failure [^>]*type="failed"/);
    await rm(path.join(root('lb-3'), 'break'));
    expect((await cli(['apply', inventory, '--limit', 'lb-3'])).code).toBe(0);
  });

  it('--shard K/N splits the hosts without overlap; report merge gives the unsharded summary and exit code', async () => {
    const shards: string[][] = [];
    for (const k of [1, 2, 3]) {
      const h = await cli(['hosts', inventory, '--shard', `${k}/3`]);
      expect(h.code, h.output).toBe(0);
      shards.push(h.stdout.split('\n').slice(1).filter(Boolean).map((l) => l.split(/\s+/)[0]!));
    }
    expect(shards.flat().sort()).toEqual(HOSTS);
    const files: string[] = [];
    for (const k of [1, 2, 3]) {
      const f = path.join(dir, `shard-${k}.json`);
      const r = await cli(['check', inventory, '--shard', `${k}/3`, '--json', f]);
      expect(r.code, r.output).toBe(shards[k - 1]!.includes('lb-2') ? 2 : 0);
      files.push(f);
    }
    const merged = await cli(['report', 'merge', ...files, '--json', path.join(dir, 'merged.json')]);
    expect(merged.code, merged.output).toBe(2);
    expect(merged.stdout).toMatch(/lb-2\s+drift/);
    expect(merged.stdout).toContain('6 hosts from 3 reports (check)');
    const report = JSON.parse(await readFile(path.join(dir, 'merged.json'), 'utf8')) as { hosts: { host: string }[] };
    expect(report.hosts.map((h) => h.host).sort()).toEqual(HOSTS);
    const overlap = await cli(['report', 'merge', files[0]!, files[0]!]);
    expect(overlap.code).toBe(1);
    expect(overlap.stderr).toMatch(/is in both .*shard-1\.json and .*shard-1\.json: the shards overlap/);
    const missing = await cli(['report', 'merge', files[0]!, path.join(dir, 'nope.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.json: cannot read it \(ENOENT\); did that shard's job finish\?/);
  });
});
