import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { importAnsible } from '../../../src/config/ansible-import/index.js';
import { expandHostPattern } from '../../../src/config/ansible-import/model.js';
import { loadInventory } from '../../../src/config/inventory.js';

const FX = path.resolve(import.meta.dirname, '../../fixtures/ansible-import');

describe('provision import-ansible', () => {
  it('expands host ranges as Ansible does', () => {
    expect(expandHostPattern('web[01:03].x')).toEqual(['web01.x', 'web02.x', 'web03.x']);
    expect(expandHostPattern('db-[a:c]')).toEqual(['db-a', 'db-b', 'db-c']);
    expect(expandHostPattern('n[0:10:5]')).toEqual(['n0', 'n5', 'n10']);
  });

  it('carries an INI inventory with group_vars/ and host_vars/, and lists what it cannot carry', async () => {
    const { yaml, notes } = await importAnsible(path.join(FX, 'ini/hosts.ini'));
    const inv = parse(yaml);
    expect(inv.vars).toEqual({ ntp_servers: ['0.pool.ntp.org', '1.pool.ntp.org'] });
    expect(inv.groups.prod).toEqual({ children: ['web', 'db'], user: 'deploy', identity: '~/.ssh/prod', vars: { region: 'eu-west' } });
    expect(inv.groups.web).toEqual({ hosts: ['web01.example.com', 'web02.example.com', 'bastion'], vars: { listen_port: 8080 } });
    // Inline INI values are Python literals; quotes removed.
    expect(inv.hosts['web01.example.com']).toEqual({ address: 'web01.example.com', port: 2222, vars: { weight: 3, tier: 'front end' } });
    expect(inv.hosts.bastion).toEqual({ address: '203.0.113.10', user: 'admin' });
    expect(inv.hosts['db-a']).toEqual({ address: '10.0.1.5', jump: 'bastion', sudo: true, vars: { pg_version: 15 } });
    expect(notes.map((n) => n.replace(FX, 'FX'))).toEqual([
      'FX/ini/group_vars/web/vault.yml: vault-encrypted file not carried over (decrypt it with ansible-vault and give its values as provision secrets)',
      'all: api_token not carried over: vaulted value (decrypt it and give it as a provision secret)',
      'group prod: ansible_python_interpreter not carried over: not needed (provision runs POSIX sh on the host, no Python)',
      'group prod: ansible_become_password not carried over: give the sudo password in an environment variable named by `sudo_password_env`',
      'host db-a: host not carried over: `host` is a provision built-in var; rename it',
      'host db-b: ansible_connection not carried over: connection `docker` (provision connects over SSH only)',
    ]);
    // The notes are in the file too, and the secret values are in neither.
    expect(yaml).toContain('#   host db-b: ansible_connection not carried over');
    expect(yaml).not.toContain('hunter2');
    expect(yaml).not.toContain('6162636465');
  });

  it('carries a YAML inventory (nested children, vaulted values left out) that provision loads', async () => {
    const { yaml, notes } = await importAnsible(path.join(FX, 'yaml/inventory.yaml'));
    const inv = parse(yaml);
    expect(inv.defaults).toEqual({ user: 'ops' });
    expect(inv.groups.app).toEqual({ children: ['app_blue', 'app_green'] });
    expect(inv.hosts['app-1']).toEqual({ address: '10.0.1.1', port: 2200 });
    expect(inv.hosts['app-2']).toEqual({ address: '10.0.1.2' });
    expect(notes).toEqual([
      'group lb: ansible_strategy_plugin not carried over: unknown connection variable',
      'host app-2: secret not carried over: vaulted value (decrypt it and give it as a provision secret)',
    ]);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'import-'));
    writeFileSync(path.join(dir, 'inventory.yaml'), yaml);
    const loaded = await loadInventory(path.join(dir, 'inventory.yaml'));
    expect(loaded.hosts.map((h) => [h.name, h.address, h.connection.user, h.groups])).toEqual([
      ['lb-1', '10.0.0.1', 'ops', ['lb']],
      ['lb-2', '10.0.0.1', 'ops', ['lb']],
      ['app-1', '10.0.1.1', 'ops', ['app', 'app_blue']],
      ['app-2', '10.0.1.2', 'ops', ['app', 'app_green']],
    ]);
  });

  it('refuses a dynamic inventory script and an inventory plugin, saying how to make them static', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'import-'));
    const script = path.join(dir, 'ec2.py');
    writeFileSync(script, '#!/usr/bin/env python3\nprint("{}")\n');
    chmodSync(script, 0o755);
    await expect(importAnsible(script)).rejects.toThrow(/dynamic inventory script: it cannot be imported as it is \(run `ansible-inventory -i .*ec2\.py --list -y > static\.yaml`/);
    const plugin = path.join(dir, 'aws_ec2.yml');
    writeFileSync(plugin, 'plugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n');
    const r = await importAnsible(plugin);
    expect(r.notes[0]).toMatch(/inventory plugin configuration \(plugin: amazon\.aws\.aws_ec2\) is dynamic/);
  });
});
