/** JUnit XML and GitHub annotations from check/apply results: per host and step, diffs, positions, masking. */
import { describe, expect, it } from 'vitest';
import type { HostResult, ResolvedStep } from '../../../src/engine/types.js';
import { ciHosts } from '../../../src/report/ci-steps.js';
import { escapeData, githubAnnotations } from '../../../src/report/github.js';
import { junitXml, xmlEscape } from '../../../src/report/junit.js';
import { Redactor } from '../../../src/report/redact.js';

const SECRET = 'hunter2-secret';
const step = (index: number, name: string, line: number) => ({ index, name, where: `/repo/playbooks/site.yaml:${line}` }) as ResolvedStep;
const steps = new Map([
  ['lb-1', [step(0, 'haproxy config', 4), step(1, 'dnsmasq <consul>', 9)]],
  ['lb-2', [step(0, 'haproxy config', 4), step(1, 'dnsmasq <consul>', 9)]],
]);
const drift: HostResult = {
  host: 'lb-1',
  status: 'drift',
  durationMs: 1200,
  execs: 1,
  handlers: [],
  steps: [
    {
      index: 0,
      name: 'haproxy config',
      status: 'pending',
      change: { step: 0, kind: 'file', id: 'file /etc/haproxy/haproxy.cfg', action: 'update', reason: 'content differs', attrs: [], spec: {}, content: { path: '/etc/haproxy/haproxy.cfg', before: `maxconn 10\npass ${SECRET}\n`, after: `maxconn 20\npass ${SECRET}\n` } },
    },
    { index: 1, name: 'dnsmasq <consul>', status: 'ok' },
  ],
};
const unreachable: HostResult = { host: 'lb-2', status: 'unreachable', durationMs: 3000, execs: 0, handlers: [], steps: [], error: 'cannot connect to root@10.0.0.2:22: connection refused' };
const hosts = ciHosts([drift, unreachable], steps, 'check', new Redactor([SECRET]));

describe('junitXml', () => {
  const xml = junitXml(hosts, 'check');

  it('has one suite per host and one case per step, the drift a failure with its diff', () => {
    expect(xml).toContain('<testsuites name="provision check" tests="3" failures="1" errors="1" skipped="0" time="3">');
    expect(xml).toContain('<testsuite name="lb-1" tests="2" failures="1" errors="0" skipped="0" time="1.2">');
    expect(xml).toMatch(/<testcase classname="lb-1" name="haproxy config" file="\/repo\/playbooks\/site.yaml" line="4" time="0">\n\s+<failure message="drift: file \/etc\/haproxy\/haproxy.cfg: content differs" type="drift">[^<]*-maxconn 10\n\s*\+maxconn 20/);
    expect(xml).toContain('<testcase classname="lb-1" name="dnsmasq &lt;consul&gt;" file="/repo/playbooks/site.yaml" line="9" time="0"/>');
    expect(xml).toMatch(/<testcase classname="lb-2" name="connect" time="3">\n\s+<error message="cannot connect to root@10.0.0.2:22: connection refused" type="unreachable">/);
  });

  it('never holds a secret', () => {
    expect(xml).not.toContain(SECRET);
    expect(xml).toContain('pass ********');
  });

  it('escapes markup and drops characters XML cannot hold', () => {
    expect(xmlEscape('a<b>&"c"\u0001')).toBe('a&lt;b&gt;&amp;&quot;c&quot;');
  });
});

describe('githubAnnotations', () => {
  const text = githubAnnotations(hosts, '/repo');

  it('puts a drift warning on the step line, relative to the checkout, and an error for an unreachable host', () => {
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]!.startsWith('::warning file=playbooks/site.yaml,line=4,title=lb-1%3A haproxy config::drift: file /etc/haproxy/haproxy.cfg: content differs%0A')).toBe(true);
    expect(lines[0]).toContain('%0A');
    expect(lines[0]).toContain('-maxconn 10%0A');
    expect(lines[1]).toBe('::error title=lb-2%3A unreachable::cannot connect to root@10.0.0.2:22: connection refused');
    expect(text).not.toContain(SECRET);
  });

  it('escapes per the workflow command rules', () => {
    expect(escapeData('50%\r\nx')).toBe('50%25%0D%0Ax');
  });
});
