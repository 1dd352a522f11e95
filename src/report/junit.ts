/**
 * `--junit FILE`: one JUnit test suite per host and one test case per step (a host that
 * could not be checked is one erroring `connect` case), so CI test views list drift per
 * host and step. A drifted or failed step is a `<failure>` carrying its diff or output.
 * Written atomically, 0644 (secrets are masked before anything reaches it).
 */
import { rename, writeFile } from 'node:fs/promises';
import type { Mode } from '../engine/types.js';
import type { CiHost } from './ci-steps.js';

/** XML text and attribute escaping; characters XML 1.0 cannot hold are dropped. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function attrs(a: Record<string, string | number>): string {
  return Object.entries(a)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');
}

function fileLine(where: string): Record<string, string | number> {
  const m = /^(.*):(\d+)$/.exec(where);
  return m ? { file: m[1]!, line: Number(m[2]) } : {};
}

function suite(h: CiHost): { xml: string; tests: number; failures: number; errors: number; skipped: number } {
  const cases: string[] = [];
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  if (h.error && !h.steps.some((s) => s.outcome === 'failure')) {
    errors++;
    cases.push(`    <testcase${attrs({ classname: h.host, name: h.status === 'unreachable' ? 'connect' : 'host', time: h.seconds })}>\n      <error${attrs({ message: h.error, type: h.status })}>${xmlEscape(h.error)}</error>\n    </testcase>`);
  }
  for (const s of h.steps) {
    const head = `    <testcase${attrs({ classname: h.host, name: s.name, ...fileLine(s.where), time: 0 })}`;
    if (s.outcome === 'passed') cases.push(`${head}/>`);
    else if (s.outcome === 'skipped') {
      skipped++;
      cases.push(`${head}>\n      <skipped${attrs({ message: s.message })}/>\n    </testcase>`);
    } else {
      failures++;
      cases.push(`${head}>\n      <failure${attrs({ message: s.message, type: s.message.startsWith('drift') ? 'drift' : 'failed' })}>${xmlEscape(s.detail)}</failure>\n    </testcase>`);
    }
  }
  const tests = cases.length;
  const xml = `  <testsuite${attrs({ name: h.host, tests, failures, errors, skipped, time: h.seconds })}>\n${cases.join('\n')}${cases.length ? '\n' : ''}  </testsuite>`;
  return { xml, tests, failures, errors, skipped };
}

export function junitXml(hosts: CiHost[], mode: Mode): string {
  const suites = hosts.map(suite);
  const sum = (k: 'tests' | 'failures' | 'errors' | 'skipped') => suites.reduce((n, s) => n + s[k], 0);
  const time = hosts.reduce((n, h) => Math.max(n, h.seconds), 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites${attrs({ name: `provision ${mode}`, tests: sum('tests'), failures: sum('failures'), errors: sum('errors'), skipped: sum('skipped'), time })}>\n${suites.map((s) => s.xml).join('\n')}${suites.length ? '\n' : ''}</testsuites>\n`;
}

export async function writeJunit(file: string, hosts: CiHost[], mode: Mode): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, junitXml(hosts, mode), { mode: 0o644 });
  await rename(tmp, file);
}
