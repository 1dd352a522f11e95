/**
 * expandHost with secrets and bytes: what the per-field policy lets through (a private
 * file's content) arrives unchanged, binary `file` sources are carried byte for byte, and
 * the same secret in a refused field is an error naming it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, ConfigErrors } from '../../../src/config/errors.js';
import { CONNECTION_DEFAULTS, type HostConfig } from '../../../src/config/inventory.js';
import { loadPlaybooks } from '../../../src/config/playbooks.js';
import { TemplateEngine } from '../../../src/config/templates.js';
import { DownloadCache } from '../../../src/resources/download-cache.js';
import { expandHost } from '../../../src/compile/expand.js';
import { STEP_KINDS } from '../../../src/resources/registry.js';

const TOKEN = 'tok-0123456789abcdef';
const dir = mkdtempSync(path.join(os.tmpdir(), 'provision-expand-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
for (const d of ['playbooks', 'templates', 'files']) mkdirSync(path.join(dir, d));
const BINARY = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0xc3, 0x28, 0x0a]);
writeFileSync(path.join(dir, 'files', 'blob.bin'), BINARY);
writeFileSync(path.join(dir, 'templates', 'env.njk'), 'TOKEN={{ token }}\n');

const host: HostConfig = {
  name: 'web-1',
  address: '127.0.0.1',
  groups: [],
  vars: { token: TOKEN, host: { name: 'web-1', address: '127.0.0.1', groups: [] } },
  connection: CONNECTION_DEFAULTS,
  playbooks: [],
  pos: { file: 'inventory.yaml', line: 1, col: 1 },
};
const deps = {
  templates: new TemplateEngine(path.join(dir, 'templates')),
  filesDir: path.join(dir, 'files'),
  downloads: new DownloadCache(path.join(dir, 'cache')),
  secretValues: [TOKEN],
  secrets: new Map([['token', { value: TOKEN, pos: { file: 'inventory.yaml', line: 4, col: 3 } }]]),
};

async function expand(name: string, yaml: string) {
  const file = path.join(dir, 'playbooks', `${name}.yaml`);
  writeFileSync(file, yaml);
  return expandHost(host, await loadPlaybooks([file], STEP_KINDS), deps);
}

async function refusal(p: Promise<unknown>): Promise<string[]> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  if (e instanceof ConfigErrors) return e.errors.map((x) => x.shortMessage);
  expect(e).toBeInstanceOf(ConfigError);
  return [(e as ConfigError).shortMessage];
}

describe('secrets and bytes through expandHost', () => {
  it('lets a secret into private files (template 0600, file 0640, systemd_unit 0600, sudoers)', async () => {
    const out = await expand('ok', `steps:
  - template: { src: env.njk, dest: /etc/app.env, mode: '0600' }
  - file: { dest: /etc/app.token, content: "{{ token }}", mode: '0640', group: adm }
  - systemd_unit: { name: app.service, mode: '0600', content: "[Service]\\nEnvironment=T={{ token }}\\n" }
  - sudoers: { name: app, content: "# {{ token }}\\n" }
`);
    expect(out.steps).toHaveLength(4);
    expect((out.steps[0]!.spec as { bytes: Buffer }).bytes.toString()).toBe(`TOKEN=${TOKEN}\n`);
  });

  it('carries a binary file source unchanged', async () => {
    const out = await expand('bin', `steps:\n  - file: { dest: /opt/blob.bin, src: blob.bin, mode: '0644' }\n`);
    expect((out.steps[0]!.spec as { bytes: Buffer }).bytes.equals(BINARY)).toBe(true);
  });

  it('refuses the same secret in argv, names and a world-readable file, each named', async () => {
    const msgs = await refusal(expand('bad', `steps:
  - command: { cmd: "register --token {{ token }}", creates: /etc/registered }
  - directory: { path: "/srv/{{ token }}" }
  - file: { dest: /etc/open.env, content: "T={{ token }}", mode: '0604' }
`));
    expect(msgs).toHaveLength(3);
    expect(msgs[0]).toMatch(/bad\.yaml:2:\d+: secret `token` would reach `cmd` of `command`/);
    expect(msgs[1]).toMatch(/bad\.yaml:3:\d+: secret `token` would reach `path` of `directory`: a path or name/);
    expect(msgs[2]).toMatch(/bad\.yaml:4:\d+: secret `token` in the content of `file`, whose file has mode 0604/);
    for (const m of msgs) expect(m).not.toContain(TOKEN);
  });
});
