/**
 * The pyinfra side of the benchmark: its templates are the shared Jinja2 sources with
 * trim_blocks applied to the text (pyinfra renders without it), its inventory names every
 * host with strict host keys, and its output is read into outcomes the same way the
 * benchmark judges a run.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import nunjucks from 'nunjucks';
import { describe, expect, it } from 'vitest';
import { BACKENDS, templateSources } from '../../../bench/fixture.js';
import { DEPLOY_PY, pyinfraInventory, trimBlocks } from '../../../bench/fixture-pyinfra.js';
import { PEERS, pyinfraDryChanges, verifyPyinfra } from '../../../bench/pyinfra.js';
import { BENCH_PYTHON_MODULES } from '../../hosts/packages.js';

const ctx = { backends: BACKENDS, bench_host: 'lb-01', root: '/srv/bench/lb-01' };

describe('pyinfra fixture: templates', () => {
  it('rendered without trim_blocks, the transformed source gives what the original gives with it (every template)', () => {
    const trimming = new nunjucks.Environment(null, { trimBlocks: true, autoescape: false });
    const plain = new nunjucks.Environment(null, { trimBlocks: false, autoescape: false });
    for (const [name, source] of Object.entries(templateSources())) {
      const want = trimming.renderString(source, ctx);
      expect(plain.renderString(trimBlocks(source), ctx), name).toBe(want);
      // The transform matters: without it the output would differ.
      expect(plain.renderString(source, ctx), name).not.toBe(want);
    }
  });

  it('drops the newline after block and comment tags only, never after an expression', () => {
    expect(trimBlocks('a\n{% if x %}\nb {{ y }}\n{# c #}\nd\n')).toBe('a\n{% if x %}b {{ y }}\n{# c #}d\n');
  });
});

describe('pyinfra fixture: inventory and deploy', () => {
  const inv = pyinfraInventory(['lb-01', 'lb-02'], { host: '127.0.0.1', port: 2222, clientKeyPath: '/k/id', knownHostsPath: '/k/known' });

  it('lists each host with its root, the loopback sshd and strict host key checking, no agent', () => {
    const lines = inv.split('\n').filter((l) => l.startsWith('    ("'));
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('("lb-02", {"ssh_hostname": "127.0.0.1", "ssh_port": 2222');
    for (const l of lines) {
      expect(l).toContain('"ssh_strict_host_key_checking": "yes"');
      expect(l).toContain('"ssh_known_hosts_file": "/k/known"');
      expect(l).toContain('"ssh_allow_agent": False');
    }
    expect(lines[0]).toContain('"root": "/srv/bench/lb-01"');
  });

  it('the deploy runs the handler last, only where a notifying template changed', () => {
    const ops = [...DEPLOY_PY.matchAll(/^\s*(?:op = )?(files|server)\.(\w+)\(/gm)].map((m) => `${m[1]}.${m[2]}`);
    expect(ops).toEqual(['files.directory', 'files.directory', 'files.put', 'files.template', 'files.line', 'server.shell']);
    expect(DEPLOY_PY).toMatch(/_if=\[lambda: any\(op\._did_change\(\) for op in notifying\)\]/);
  });
});

describe('pyinfra peer: what it needs is in the repository or declared', () => {
  it('every requirement of the archived setup.py is a wheel in bench/peers or a declared Debian module', () => {
    const archive = readFileSync(`${PEERS}/README.md`, 'utf8').match(/pyinfra-[\w.-]+\.tar\.gz/)![0];
    const setup = execFileSync('tar', ['-xzOf', `${PEERS}/${archive}`, './setup.py'], { encoding: 'utf8' });
    const block = /INSTALL_REQUIRES = \(([\s\S]*?)\n\)/.exec(setup)![1]!;
    const reqs = [...block.matchAll(/^\s*"([A-Za-z0-9_.-]+)[^"]*",/gm)].map((m) => m[1]!.toLowerCase());
    expect(reqs).toContain('gevent');
    const wheels = execFileSync('ls', [PEERS], { encoding: 'utf8' });
    const module = (r: string) => ({ 'python-dateutil': 'dateutil' })[r] ?? r;
    const missing = reqs.filter((r) => !(module(r) in BENCH_PYTHON_MODULES) && !wheels.includes(`${r.replace(/-/g, '_')}-`));
    expect(missing).toEqual([]);
  });
});

// Output shapes as pyinfra 3.0b0 prints them (seen on the benchmark's sshd).
const APPLY = (outcome: (h: string) => string) => `--> Starting operation: directory etc/haproxy
    [lb-01] ${outcome('lb-01')}
    [lb-02] ${outcome('lb-02')}

--> Results:
`;
const DRY = (change: string) => `--> Preparing Operations...
    Loading: deploy.py
    [lb-02] Ready: deploy.py
    [lb-01] Ready: deploy.py

--> Detected changes:
    Operation                                   Change   Conditional Change   
    directory etc/haproxy                       ${change}        -                    
    reload haproxy                              -        2 (lb-01, lb-02)     

--> Disconnecting from hosts...
`;

describe('pyinfra peer: judging a run from its output', () => {
  const hosts = ['lb-01', 'lb-02'];
  it('a first apply must change every host; a second none', () => {
    expect(verifyPyinfra('first', hosts, APPLY(() => 'Success'))).toBeNull();
    expect(verifyPyinfra('first', hosts, APPLY((h) => (h === 'lb-01' ? 'Success' : 'No changes')))).toBe('first apply: 1/2 hosts changed');
    expect(verifyPyinfra('second', hosts, APPLY(() => 'No changes'))).toBeNull();
    expect(verifyPyinfra('second', hosts, APPLY(() => 'Success'))).toBe('second apply changed 2 hosts');
    expect(verifyPyinfra('second', hosts, APPLY(() => 'Error'))).toBe('2 operation(s) failed');
    expect(verifyPyinfra('second', ['lb-01', 'lb-02', 'lb-03'], APPLY(() => 'No changes'))).toMatch(/no outcome for 1 host/);
  });

  it('a dry run on a converged host shows no change; the handler\'s conditional row is not one', () => {
    expect(pyinfraDryChanges(DRY('-'))).toEqual([]);
    expect(verifyPyinfra('check', hosts, DRY('-'))).toBeNull();
    expect(verifyPyinfra('check', hosts, DRY('2'))).toBe('the dry run would change: directory etc/haproxy');
    expect(verifyPyinfra('check', ['lb-01', 'lb-02', 'lb-03'], DRY('-'))).toBe('the dry run prepared 2/3 hosts');
    expect(verifyPyinfra('check', hosts, 'no table')).toMatch(/prepared 0\/2/);
  });
});
