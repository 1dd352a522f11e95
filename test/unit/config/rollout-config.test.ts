/** Rollout keys of inventory groups: precedence, gate rendering, and FILE:LINE:COL errors. */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadInventory } from '../../../src/config/inventory.js';
import { parseMaxFailOption, parseSerialOption, renderAllGates, wantsRollout } from '../../../src/cli/rollout-hosts.js';
import { loadPlaybooks } from '../../../src/config/playbooks.js';
import { STEP_KINDS } from '../../../src/resources/registry.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'provision-rollout-cfg-'));
  await mkdir(path.join(dir, 'playbooks'));
  await writeFile(path.join(dir, 'playbooks/lb.yaml'), 'steps: []\n');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function load(groups: string) {
  const file = path.join(dir, 'inv.yaml');
  await writeFile(
    file,
    `settings: { playbooks_dir: ./playbooks }\nhosts:\n  lb-1: { address: 10.0.0.1 }\n  lb-2: { address: 10.0.0.2 }\n  app-1: { address: 10.0.0.3 }\ngroups:\n${groups}`,
  );
  return loadInventory(file, {});
}

describe('rollout settings from groups', () => {
  it('serial and max_fail from the most specific group that sets serial; gates from every group', async () => {
    const inv = await load(
      [
        '  all:',
        '    hosts: [lb-1, lb-2, app-1]',
        '    serial: "50%"',
        '    health: [{ tcp: { port: 22 } }]',
        '  lb:',
        '    hosts: [lb-1, lb-2]',
        '    serial: [1, "100%"]',
        '    max_fail: 0',
        '    restore: false',
        '    health:',
        '      - name: "http {{ host.name }}"',
        '        http: { url: "http://{{ host.address }}/", body: "UP" }',
        '        retries: 3',
        '',
      ].join('\n'),
    );
    const [lb1, , app1] = inv.hosts;
    expect(lb1!.rollout).toMatchObject({ group: 'lb', serial: [1, '100%'], maxFail: 0, restore: false });
    expect(app1!.rollout).toMatchObject({ group: 'all', serial: ['50%'], maxFail: undefined, restore: true });
    const gates = renderAllGates(inv, inv.hosts);
    expect(gates.get('lb-1')).toEqual([
      { name: 'tcp 10.0.0.1:22', from: 'controller', check: { kind: 'tcp', address: '10.0.0.1', port: 22, timeoutS: 5 }, retries: 5, intervalS: 2, deadlineS: 60 },
      { name: 'http lb-1', from: 'controller', check: { kind: 'http', url: 'http://10.0.0.1/', status: 200, body: 'UP', timeoutS: 5 }, retries: 3, intervalS: 2, deadlineS: 60 },
    ]);
    expect(gates.get('app-1')!.map((g) => g.name)).toEqual(['tcp 10.0.0.3:22']);
  });

  it('bad values are FILE:LINE:COL errors before anything connects', async () => {
    await expect(load('  lb:\n    hosts: [lb-1]\n    serial: "0%"\n')).rejects.toThrow(/inv\.yaml:9:13: expected a share above 0%/);
    await expect(load('  lb:\n    hosts: [lb-1]\n    max_fail: -1\n')).rejects.toThrow(/inv\.yaml:9:15: /);
    await expect(load('  lb:\n    hosts: [lb-1]\n    health: [{ http: { url: "x" }, command: "true" }]\n')).rejects.toThrow(/inv\.yaml:9:.*exactly one of `http`, `tcp` or `command`/);
    await expect(load('  lb:\n    hosts: [lb-1]\n    helth: []\n')).rejects.toThrow(/inv\.yaml:9:5: .*helth.*health/);
  });

  it('a gate template naming an undefined var is an error at its position', async () => {
    const inv = await load('  lb:\n    hosts: [lb-1]\n    health: [{ command: "check {{ nope }}" }]\n');
    expect(() => renderAllGates(inv, inv.hosts)).toThrow(/inv\.yaml:9:23: undefined variable `nope`/);
  });

  it('a playbook\'s gates follow the group\'s, rendered with the playbook\'s vars under the host\'s', async () => {
    await writeFile(
      path.join(dir, 'playbooks/lb.yaml'),
      'vars: { stats_port: 8404 }\nsteps: []\nhealth:\n  - name: stats\n    http: { url: "http://{{ host.address }}:{{ stats_port }}/", from: host }\n',
    );
    const inv = await load('  lb:\n    hosts: [lb-1]\n    playbooks: [lb]\n    health: [{ tcp: { port: 80 } }]\n');
    const lb1 = inv.hosts.find((h) => h.name === 'lb-1')!;
    const pb = await loadPlaybooks(lb1.playbooks, STEP_KINDS);
    const playbooks = new Map([['lb-1', pb]]);
    expect(wantsRollout([lb1], undefined, new Map())).toBe(true);
    const gates = renderAllGates(inv, [lb1], playbooks).get('lb-1')!;
    expect(gates.map((g) => [g.name, g.from, g.check.kind === 'http' ? g.check.url : ''])).toEqual([
      ['tcp 10.0.0.1:80', 'controller', ''],
      ['stats', 'host', 'http://10.0.0.1:8404/'],
    ]);
    const app1 = inv.hosts.find((h) => h.name === 'app-1')!;
    expect(wantsRollout([app1], undefined)).toBe(false);
  });

  it('--serial and --max-fail', () => {
    expect(parseSerialOption('1')).toEqual([1]);
    expect(parseSerialOption('1,25%,100%')).toEqual([1, '25%', '100%']);
    expect(() => parseSerialOption('0')).toThrow();
    expect(() => parseSerialOption('abc')).toThrow();
    expect(parseMaxFailOption('0')).toBe(0);
    expect(parseMaxFailOption('10%')).toBe('10%');
    expect(() => parseMaxFailOption('-1')).toThrow();
  });
});
