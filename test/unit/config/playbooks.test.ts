import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlaybooks } from '../../../src/config/playbooks.js';
import { fakeKinds } from './fake-kinds.js';
import { configErrors, FIXTURES, shown } from './helpers.js';

const valid = (name: string): string => path.join(FIXTURES, 'valid/playbooks', name);
const broken = (name: string): string => path.join(FIXTURES, 'broken-playbooks', name);

describe('loadPlaybooks: valid playbooks', () => {
  it('flattens includes in place and carries their conditions', async () => {
    const pb = await loadPlaybooks([valid('base.yaml'), valid('lb.yaml')], fakeKinds);
    expect(pb.steps.map((s) => [s.kind, s.name ?? null, s.conditions, path.basename(s.file)])).toEqual([
      ['apt', 'base packages', [], 'base.yaml'],
      ['apt', null, ['dnsmasq_enabled'], 'dnsmasq.yaml'],
      ['file', 'extra file', ['dnsmasq_enabled', 'extra'], 'dns-extra.yaml'],
      ['apt', 'HAProxy package', [], 'lb.yaml'],
      ['file', null, [], 'lb.yaml'],
    ]);
    expect(pb.files).toEqual([valid('base.yaml'), valid('lb.yaml'), valid('dnsmasq.yaml'), valid('nested/dns-extra.yaml')]);
  });

  it('keeps step metadata, bodies and positions', async () => {
    const pb = await loadPlaybooks([valid('lb.yaml')], fakeKinds);
    const loopStep = pb.steps[3]!;
    expect(loopStep.loop).toBe('{{ backends }}');
    expect(loopStep.loopVar).toBe('backend');
    expect(loopStep.when).toBe(true);
    expect(loopStep.notify).toEqual(['reload haproxy']);
    expect(loopStep.body).toEqual({ path: '/etc/haproxy/conf.d/{{ backend.name }}.cfg', template: 'backend.cfg.njk', validate_set: 'haproxy' });
    expect(loopStep.pos).toEqual({ file: shown('valid/playbooks/lb.yaml'), line: 9, col: 5 });
    expect(loopStep.posOf(['template'])).toEqual({ file: shown('valid/playbooks/lb.yaml'), line: 11, col: 17 });
    expect(loopStep.posOf(['template'], 'key')).toEqual({ file: shown('valid/playbooks/lb.yaml'), line: 11, col: 7 });
    // a path that does not exist falls back to the nearest node
    expect(loopStep.posOf(['mode'])).toEqual({ file: shown('valid/playbooks/lb.yaml'), line: 10, col: 7 });
    expect(pb.steps[2]!.notify).toEqual(['reload haproxy']);
    expect(pb.steps[2]!.loopVar).toBe('item');
  });

  it('collects handlers, validation sets and default vars', async () => {
    const pb = await loadPlaybooks([valid('base.yaml'), valid('lb.yaml')], fakeKinds);
    expect([...pb.handlers.keys()]).toEqual(['reload haproxy', 'restart dnsmasq']);
    const h = pb.handlers.get('reload haproxy')!;
    expect([h.kind, h.body]).toEqual(['service', { name: 'haproxy', state: 'reloaded' }]);
    expect(h.pos).toEqual({ file: shown('valid/playbooks/lb.yaml'), line: 18, col: 3 });
    expect(pb.validateSets.get('haproxy')).toEqual({
      command: '/usr/sbin/haproxy -c -q -f {main} -f {confd}',
      paths: { main: '/etc/haproxy/haproxy.cfg', confd: '/etc/haproxy/conf.d' },
      pos: { file: shown('valid/playbooks/lb.yaml'), line: 21, col: 3 },
    });
    expect(pb.vars).toEqual({ base_pkg: 'curl', haproxy_port: 80, dnsmasq_port: 53 });
  });

  it('allows the same playbook twice: its steps appear twice, its handlers once', async () => {
    const pb = await loadPlaybooks([valid('dnsmasq.yaml'), valid('dnsmasq.yaml')], fakeKinds);
    expect(pb.steps).toHaveLength(4);
    expect(pb.handlers.size).toBe(1);
    expect(pb.files).toHaveLength(2);
  });
});

interface BrokenCase {
  files: string[];
  at: string;
  line: number;
  col: number;
  message: string;
  hint?: string;
}

const cases: BrokenCase[] = [
  { files: ['unknown-handler.yaml'], at: 'unknown-handler.yaml', line: 3, col: 13, message: 'notify names unknown handler `reload haproxyy`', hint: 'did you mean `reload haproxy`?' },
  {
    files: ['cycle-a.yaml'],
    at: 'cycle-b.yaml',
    line: 2,
    col: 14,
    message: `include cycle: ${shown('broken-playbooks/cycle-a.yaml')} -> ${shown('broken-playbooks/cycle-b.yaml')} -> ${shown('broken-playbooks/cycle-a.yaml')}`,
  },
  { files: ['missing-include.yaml'], at: 'missing-include.yaml', line: 3, col: 14, message: `included playbook \`does-not-exist\` not found (looked for ${shown('broken-playbooks/does-not-exist.yaml')})` },
  { files: ['unknown-step-key.yaml'], at: 'unknown-step-key.yaml', line: 3, col: 5, message: 'unknown key `aptt` in step', hint: 'did you mean `apt`?' },
  { files: ['unknown-body-key.yaml'], at: 'unknown-body-key.yaml', line: 4, col: 7, message: 'unknown key `pakages` in `apt`', hint: 'did you mean `packages`?' },
  { files: ['two-kinds.yaml'], at: 'two-kinds.yaml', line: 3, col: 5, message: 'a step has exactly one step type, found 2: apt, service' },
  {
    files: ['handler-1.yaml', 'handler-2.yaml'],
    at: 'handler-2.yaml',
    line: 2,
    col: 3,
    message: `handler \`reload haproxy\` is already defined differently at ${shown('broken-playbooks/handler-1.yaml')}:2:3`,
  },
  { files: ['bad-meta.yaml'], at: 'bad-meta.yaml', line: 3, col: 15, message: 'expected a var name, got the number 5' },
  { files: ['bad-include-key.yaml'], at: 'bad-include-key.yaml', line: 3, col: 5, message: 'unknown key `whn`', hint: 'did you mean `when`?' },
  { files: ['nested-body-key.yaml'], at: 'nested-body-key.yaml', line: 5, col: 9, message: 'unknown key `gruop` in `file`', hint: 'did you mean `group`?' },
  { files: ['bad-validate-set.yaml'], at: 'bad-validate-set.yaml', line: 3, col: 14, message: 'validation set `haproxy`: placeholder {confd} has no entry in `paths`', hint: 'did you mean `conf`?' },
  { files: ['unknown-top-key.yaml'], at: 'unknown-top-key.yaml', line: 1, col: 1, message: 'unknown key `step`', hint: 'did you mean `steps`?' },
];

describe('loadPlaybooks: broken playbooks', () => {
  for (const c of cases) {
    it(`${c.files.join(' + ')}: ${c.message}`, async () => {
      const errors = await configErrors(loadPlaybooks(c.files.map(broken), fakeKinds));
      expect(errors).toHaveLength(1);
      const e = errors[0]!;
      expect(e.pos).toEqual({ file: shown(`broken-playbooks/${c.at}`), line: c.line, col: c.col });
      expect(e.problem).toBe(c.message);
      if (c.hint !== undefined) expect(e.hint).toBe(c.hint);
    });
  }

  it('names the including file and line for a missing include', async () => {
    const errors = await configErrors(loadPlaybooks([broken('missing-include.yaml')], fakeKinds));
    expect(errors[0]!.shortMessage).toMatch(/^test\/fixtures\/config\/broken-playbooks\/missing-include\.yaml:3:14: /);
  });

  it('reports a missing top-level playbook file', async () => {
    const errors = await configErrors(loadPlaybooks([broken('nope.yaml')], fakeKinds));
    expect(errors[0]!.problem).toBe(`playbook ${shown('broken-playbooks/nope.yaml')} not found`);
  });
});
