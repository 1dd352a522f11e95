/** The desired states the benchmark writes for every tool: the same steps, in each tool's words. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LB_STATE, SAKE_STATE, stepCount, writeFixture, type DesiredState } from '../../../bench/fixture.js';

const work = mkdtempSync(path.join(tmpdir(), 'bench-fixture-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const ssh = { host: '127.0.0.1', port: 2222, clientKeyPath: '/k/id', knownHostsPath: '/k/known' };

function written(state: DesiredState, n: number) {
  const fx = writeFixture(path.join(work, `${state.name}-${n}`), n, ssh, '/tmp/cp', state);
  const provision = parse(readFileSync(path.join(path.dirname(fx.provisionInventory), '../playbooks/lb.yaml'), 'utf8'));
  const ansible = parse(readFileSync(fx.ansiblePlaybook, 'utf8'))[0];
  const pyinfra = JSON.parse(readFileSync(path.join(fx.pyinfra.dir, 'state.json'), 'utf8')) as DesiredState;
  return { fx, provision, ansible, pyinfra };
}

describe('bench fixtures', () => {
  it('the load-balancer state: 28 steps + 1 handler for provision and Ansible, the same data for pyinfra', () => {
    const { fx, provision, ansible, pyinfra } = written(LB_STATE, 3);
    expect(stepCount(LB_STATE)).toBe(28);
    expect(provision.steps).toHaveLength(28);
    expect(Object.keys(provision.handlers)).toEqual(['reload haproxy']);
    expect(ansible.tasks).toHaveLength(28);
    expect(ansible.handlers).toHaveLength(1);
    expect(pyinfra).toEqual(JSON.parse(JSON.stringify(LB_STATE)));
    expect(fx.hosts).toEqual(['lb-01', 'lb-02', 'lb-03']);
    expect(readFileSync(fx.pyinfra.inventory, 'utf8').match(/^ {4}\("lb-\d+"/gm)).toHaveLength(3);
  });

  it('one line step per file (provision refuses two on one path)', () => {
    const paths = LB_STATE.lines.map((l) => l.path);
    expect(new Set(paths).size).toBe(paths.length);
  });

  it('the sake-shaped state: 4 steps, no handler; the mode-777 file owned by nobody in every tool', () => {
    const { provision, ansible, pyinfra } = written(SAKE_STATE, 2);
    expect(stepCount(SAKE_STATE)).toBe(4);
    expect(provision.steps).toHaveLength(4);
    expect(provision.handlers).toBeUndefined();
    expect(ansible.tasks).toHaveLength(4);
    expect(ansible.handlers).toEqual([]);
    expect(provision.steps[1].file).toMatchObject({ dest: '{{ root }}/home/test/add.txt', content: '', mode: '0777', owner: 'nobody', group: 'nogroup' });
    expect(ansible.tasks[1]['ansible.builtin.copy']).toMatchObject({ content: '', mode: '0777', owner: 'nobody', group: 'nogroup' });
    expect(pyinfra.files[0]).toMatchObject({ owner: 'nobody', group: 'nogroup' });
    expect(pyinfra.handler).toBeUndefined();
  });
});
