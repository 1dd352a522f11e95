import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TemplateEngine } from '../../../src/config/templates.js';
import { thrown } from './helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'jinja-syntax-'));
const engine = new TemplateEngine(dir);
const pos = { file: 'playbooks/site.yaml', line: 7, col: 12 };

function file(name: string, text: string): string {
  writeFileSync(path.join(dir, name), text);
  return name;
}

describe('string literals as Jinja and Ansible read them', () => {
  it('in a template file: Python escapes (unknown ones kept, \\\\1 is a backreference)', () => {
    const name = file('re.j2', "{{ 'host-01.x' | regex_replace('^host-(\\d+)\\..*$', 'node\\\\1') }} {{ 'a\\tb' }} {{ 'a\\x41' }}\n");
    expect(engine.renderFile(name, {})).toBe('node01 a\tb aA\n');
  });
  it('in a YAML value: backslashes kept as written (Ansible doubles them inside {{ }})', () => {
    expect(engine.renderString("{{ 'host-01.x' | regex_replace('^host-(\\d+)\\..*$', 'node\\1') }}", {}, pos)).toBe('node01');
  });
  it('nunjucks Jinja compatibility: .items(), slices, None', () => {
    expect(engine.renderString("{% for k, v in m.items() %}{{ k }}={{ v }};{% endfor %}{{ xs[1:] | join(',') }}{{ none_v is none }}", { m: { a: 1, b: 2 }, xs: [1, 2, 3], none_v: null }, pos)).toBe(
      'a=1;b=2;2,3true',
    );
  });
});

describe('Jinja constructs refused before rendering', () => {
  it('an unknown filter, with the nearest known one, at its position in the file', () => {
    const e = thrown(() => engine.renderFile(file('uf.j2', 'x\n{{ ports | to_nice_jsn }}\n'), { ports: [] }, pos));
    expect(e.pos).toEqual({ file: expect.stringMatching(/uf\.j2$/), line: 2, col: 12 });
    expect(e.problem).toBe('unknown filter `to_nice_jsn`');
    expect(e.hint).toBe('did you mean `to_nice_json`?');
  });
  it('an unknown filter in a YAML value, at its column in the YAML file', () => {
    const e = thrown(() => engine.renderString('{{ name | uppr }}', { name: 'x' }, pos));
    expect(e.pos).toEqual({ file: 'playbooks/site.yaml', line: 7, col: 22 });
    expect(e.hint).toBe('did you mean `upper`?');
  });
  it('`for ... if ...`, which nunjucks would silently read as an empty loop', () => {
    const e = thrown(() => engine.renderFile(file('forif.j2', '{% for b in backends if b.enabled %}{{ b.name }}{% endfor %}\n'), { backends: [{ name: 'a', enabled: true }] }, pos));
    expect(e.pos?.line).toBe(1);
    expect(e.problem).toMatch(/nunjucks cannot filter a loop with `for \.\.\. in \.\.\. if \.\.\.`/);
    expect(e.hint).toMatch(/selectattr\('enabled'\)/);
    // The nunjucks way the hint gives renders what Jinja's filtered loop does.
    expect(engine.renderFile(file('forif-ok.j2', "{% for b in backends | selectattr('enabled') %}{{ b.name }}{% endfor %}\n"), { backends: [{ name: 'a', enabled: true }, { name: 'b', enabled: false }] })).toBe('a\n');
  });
});
