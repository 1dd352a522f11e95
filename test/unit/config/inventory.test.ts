import { chmodSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { loadInventory, type Inventory } from '../../../src/config/inventory.js';
import { configErrors, FIXTURES, shown } from './helpers.js';

const ENV = { HOME: '/home/tester', TEST_CONSUL_ENCRYPT: 'enc-key-123' };
const load = (): Promise<Inventory> => loadInventory(path.join(FIXTURES, 'valid/inventory/prod.yaml'), ENV);
const invDir = path.join(FIXTURES, 'valid/inventory');
const pb = (name: string): string => path.join(FIXTURES, 'valid/playbooks', name);

// Git keeps no file modes but the executable bit; a secret file must not be readable by others.
beforeAll(() => chmodSync(path.join(FIXTURES, 'valid/secrets/consul-token'), 0o600));

describe('loadInventory: valid inventory', () => {
  it('resolves settings relative to the inventory file, with defaults', async () => {
    const inv = await load();
    expect(inv.file).toBe(path.join(invDir, 'prod.yaml'));
    expect(inv.settings).toEqual({
      playbooksDir: path.join(FIXTURES, 'valid/playbooks'),
      templatesDir: path.join(FIXTURES, 'valid/templates'),
      filesDir: path.join(FIXTURES, 'valid/files'),
      knownHosts: path.join(invDir, 'prod.known_hosts'),
      hostKeyPolicy: 'accept-new',
      forks: 5,
      lockFile: '/run/lock/provision.lock',
      downloadCache: '/home/tester/.cache/provision',
    });
  });

  it('orders groups parents first and includes groups reached through children', async () => {
    const inv = await load();
    expect(inv.hosts.map((h) => [h.name, h.groups])).toEqual([
      ['bastion', []],
      ['lb-1', ['all_lb', 'lb']],
      ['lb-2', ['all_lb', 'lb', 'edge']],
      ['app-1', ['app']],
    ]);
    expect([...inv.groups]).toEqual([
      ['all_lb', ['lb-1', 'lb-2']],
      ['lb', ['lb-1', 'lb-2']],
      ['edge', ['lb-2']],
      ['app', ['app-1']],
    ]);
  });

  it('merges vars host by host: global < parent group < child group < host', async () => {
    const inv = await load();
    const v = Object.fromEntries(inv.hosts.map((h) => [h.name, h.vars]));
    expect(v['bastion']!['level']).toBe('global');
    expect(v['lb-1']!['level']).toBe('lb');
    expect(v['lb-2']!['level']).toBe('host');
    expect(v['app-1']!['level']).toBe('app');
    // whole-value override, no deep merge
    expect(v['lb-1']!['resolvers']).toEqual(['9.9.9.9']);
    expect(v['app-1']!['resolvers']).toEqual(['1.1.1.1']);
    // a var only a parent group sets reaches hosts of its children; YAML 1.2 keeps `yes` a string
    expect(v['lb-2']!['from_all_lb']).toBe('yes');
    expect(v['bastion']!['from_all_lb']).toBeUndefined();
  });

  it('adds secrets and built-ins to vars and lists secret values for redaction', async () => {
    const inv = await load();
    const lb2 = inv.hosts[2]!;
    expect(lb2.vars['consul_encrypt']).toBe('enc-key-123');
    expect(lb2.vars['consul_token']).toBe('s3cr3t-token-value'); // trailing newline stripped
    expect(inv.secretValues.sort()).toEqual(['enc-key-123', 's3cr3t-token-value']);
    expect(lb2.vars['host']).toEqual({ name: 'lb-2', address: '10.0.0.12', groups: ['all_lb', 'lb', 'edge'] });
    const invVar = lb2.vars['inventory'] as { hosts: Record<string, { address: string; groups: string[]; vars: Record<string, unknown> }>; groups: Record<string, string[]> };
    expect(invVar.groups['edge']).toEqual(['lb-2']);
    expect(invVar.hosts['lb-1']!.address).toBe('10.0.0.11');
    expect(invVar.hosts['lb-1']!.vars['level']).toBe('lb');
  });

  it('merges connection settings: defaults < groups < host', async () => {
    const inv = await load();
    const c = Object.fromEntries(inv.hosts.map((h) => [h.name, h.connection]));
    expect(c['bastion']).toEqual({ user: 'admin', port: 2222, identity: ['/home/tester/.ssh/id_ed25519'], sudo: false, jump: null, connectTimeout: 5, lockFile: null });
    expect(c['lb-1']).toEqual({ user: 'admin', port: 22, identity: ['/home/tester/.ssh/id_ed25519'], sudo: true, jump: null, connectTimeout: 5, lockFile: null });
    expect(c['lb-2']).toEqual({ user: 'admin', port: 22, identity: [path.join(invDir, 'keys/edge'), '/home/tester/.ssh/edge2'], sudo: true, jump: null, connectTimeout: 30, lockFile: null });
    expect(c['app-1']).toEqual({ user: 'deploy', port: 2200, identity: ['/home/tester/.ssh/id_ed25519'], sudo: false, jump: 'bastion', connectTimeout: 5, lockFile: null });
  });

  it('lists playbooks: groups parents first, then the host, deduplicated', async () => {
    const inv = await load();
    const p = Object.fromEntries(inv.hosts.map((h) => [h.name, h.playbooks]));
    expect(p['bastion']).toEqual([]);
    expect(p['lb-1']).toEqual([pb('base.yaml'), pb('lb.yaml')]);
    expect(p['lb-2']).toEqual([pb('base.yaml'), pb('lb.yaml'), path.join(invDir, 'extra.yaml')]);
  });

  it('records the position of every host', async () => {
    const inv = await load();
    expect(inv.hosts[1]!.pos).toEqual({ file: shown('valid/inventory/prod.yaml'), line: 47, col: 3 });
  });
});

describe('Inventory.select (--limit)', () => {
  const names = async (limit?: string): Promise<string[]> => (await load()).select(limit).map((h) => h.name);

  it('selects everything without a limit', async () => {
    expect(await names()).toEqual(['bastion', 'lb-1', 'lb-2', 'app-1']);
    expect(await names(undefined)).toEqual(['bastion', 'lb-1', 'lb-2', 'app-1']);
  });
  it('selects by host name and group name, keeping inventory order', async () => {
    expect(await names('app-1,lb-1')).toEqual(['lb-1', 'app-1']);
    expect(await names('edge')).toEqual(['lb-2']);
    expect(await names('all_lb')).toEqual(['lb-1', 'lb-2']);
  });
  it('selects by glob over host and group names', async () => {
    expect(await names('lb-*')).toEqual(['lb-1', 'lb-2']);
    expect(await names('app-?')).toEqual(['app-1']);
    expect(await names('ap*')).toEqual(['app-1']); // the group `app` and the host `app-1`
    expect(await names('lb-[2]')).toEqual(['lb-2']);
  });
  it('excludes with !, starting from all hosts when only exclusions are given', async () => {
    expect(await names('lb,!lb-1')).toEqual(['lb-2']);
    expect(await names('!lb')).toEqual(['bastion', 'app-1']);
    expect(await names('!edge,!bastion')).toEqual(['lb-1', 'app-1']);
  });
  it('rejects a pattern that matches nothing, with a hint', async () => {
    const inv = await load();
    expect(() => inv.select('lb-1,lb-9')).toThrow(ConfigError);
    expect(() => inv.select('lb-1,lb-9')).toThrow('--limit pattern `lb-9` matches no host or group (did you mean `lb-1`?)');
    expect(() => inv.select('!web-*')).toThrow('--limit pattern `!web-*` matches no host or group');
  });
  it('rejects an empty or malformed --limit instead of selecting every host', async () => {
    const inv = await load();
    expect(() => inv.select('')).toThrow('--limit `` names no host (give host names, group names or globs');
    expect(() => inv.select(' , ,, ')).toThrow('--limit ` , ,, ` names no host');
    expect(() => inv.select('lb-1,,app-1')).toThrow('--limit `lb-1,,app-1`: item 2 is empty (remove the extra comma');
    expect(() => inv.select('lb-1,!')).toThrow('--limit `lb-1,!`: item 2 is empty');
  });
  it('rejects a --limit that selects no host, naming it', async () => {
    const inv = await load();
    expect(() => inv.select('lb,!lb-*')).toThrow('--limit `lb,!lb-*` selects no host (its `!` exclusions remove every host it names)');
  });
});

interface BrokenCase {
  file: string;
  line: number;
  col: number;
  message: string;
  hint?: string;
}

const broken: BrokenCase[] = [
  { file: 'unknown-key.yaml', line: 4, col: 5, message: 'unknown key `prot`', hint: 'did you mean `port`?' },
  { file: 'unknown-top-key.yaml', line: 1, col: 1, message: 'unknown key `setings`', hint: 'did you mean `settings`?' },
  { file: 'wrong-type-list.yaml', line: 3, col: 12, message: 'expected a list of strings, got the number 5' },
  { file: 'identity-type.yaml', line: 4, col: 26, message: 'expected a string, got the number 5' },
  { file: 'missing-address.yaml', line: 5, col: 5, message: 'missing required key `address`' },
  { file: 'unknown-host-in-group.yaml', line: 3, col: 19, message: 'unknown host `lb-3` in group `lb`; defined hosts: lb-1, lb-2', hint: 'did you mean `lb-1`?' },
  { file: 'unknown-child.yaml', line: 3, col: 16, message: 'unknown group `egde` in children of group `lb`; defined groups: lb, edge', hint: 'did you mean `edge`?' },
  { file: 'group-cycle.yaml', line: 7, col: 16, message: 'group cycle: lb -> edge -> core -> lb' },
  { file: 'group-self.yaml', line: 4, col: 16, message: 'group cycle: lb -> lb' },
  { file: 'jump-loop.yaml', line: 2, col: 9, message: 'jump host loop: bastion -> bastion' }, // the `defaults` line that sets it
  { file: 'duplicate-key.yaml', line: 4, col: 3, message: 'duplicate key `lb-1` (also at line 2)' },
  { file: 'syntax-error.yaml', line: 3, col: 3, message: 'YAML: a `{ ... }` map opened above is not closed before this line' },
  { file: 'secret-env-unset.yaml', line: 2, col: 26, message: 'secret `consul_encrypt`: environment variable PROVISION_TEST_UNSET_VAR is not set' },
  { file: 'secret-file-missing.yaml', line: 3, col: 11, message: `secret \`token\`: file ${shown('broken-inventory/no-such-token')} does not exist` },
  { file: 'secret-var-clash.yaml', line: 2, col: 3, message: `var \`token\` has the same name as a secret (defined at ${shown('broken-inventory/secret-var-clash.yaml')}:4:3)` },
  { file: 'bad-port.yaml', line: 2, col: 9, message: 'expected a port number (1-65535), got the number 70000' },
  { file: 'mode-number.yaml', line: 4, col: 11, message: 'expected a user name (string), got the number 644', hint: 'YAML reads 0644 as the number 644; quote it: "0644"' },
  { file: 'unknown-jump.yaml', line: 5, col: 11, message: 'jump host `bastoin` is not an inventory host', hint: 'did you mean `bastion`?' },
  { file: 'builtin-var.yaml', line: 5, col: 7, message: '`host` is a built-in var and cannot be defined' },
  { file: 'bad-policy.yaml', line: 2, col: 20, message: 'expected one of strict, accept-new, got a string', hint: 'did you mean `strict`?' },
  { file: 'missing-playbook.yaml', line: 6, col: 17, message: `playbook \`bse\` not found (looked for ${shown('valid/playbooks/bse.yaml')})`, hint: 'did you mean `base`?' },
];

describe('loadInventory: broken inventories', () => {
  const env = { HOME: '/home/tester', PROVISION_TEST_SET_VAR: 'hunter2-secret' };
  for (const c of broken) {
    it(`${c.file}: ${c.message}`, async () => {
      const errors = await configErrors(loadInventory(path.join(FIXTURES, 'broken-inventory', c.file), env));
      expect(errors).toHaveLength(1);
      const e = errors[0]!;
      expect(e.pos).toEqual({ file: shown(`broken-inventory/${c.file}`), line: c.line, col: c.col });
      expect(e.problem).toBe(c.message);
      if (c.hint !== undefined) expect(e.hint).toBe(c.hint);
      expect(e.shortMessage.startsWith(`${shown(`broken-inventory/${c.file}`)}:${c.line}:${c.col}: `)).toBe(true);
      expect(e.shortMessage).not.toContain('hunter2-secret');
    });
  }

  it('never prints the value of a secret that is set', async () => {
    const errors = await configErrors(loadInventory(path.join(FIXTURES, 'broken-inventory/secret-var-clash.yaml'), env));
    for (const e of errors) expect(`${e.shortMessage}\n${e.detail ?? ''}`).not.toContain('hunter2-secret');
  });

  it('reports an empty inventory', async () => {
    const errors = await configErrors(loadInventory(path.join(FIXTURES, 'broken-inventory/empty.yaml'), env));
    expect(errors[0]!.problem).toBe('the inventory is empty (expected at least `hosts:`)');
  });

  it('reports a missing inventory file', async () => {
    const errors = await configErrors(loadInventory(path.join(FIXTURES, 'broken-inventory/nope.yaml'), env));
    expect(errors[0]!.problem).toBe(`inventory ${shown('broken-inventory/nope.yaml')} not found`);
  });
});
