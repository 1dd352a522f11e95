import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TemplateEngine } from '../../../src/config/templates.js';
import { FIXTURES, shown, thrown } from './helpers.js';

const engine = new TemplateEngine(path.join(FIXTURES, 'valid/templates'));
const stepPos = { file: 'playbooks/lb.yaml', line: 10, col: 7 };

describe('TemplateEngine.renderFile', () => {
  it('renders with trimmed blocks', () => {
    const out = engine.renderFile('backend.cfg.njk', { backend: { name: 'web', servers: [{ name: 's1', addr: '10.0.0.1', port: 80 }, { name: 's2', addr: '10.0.0.2', port: 81 }] } });
    expect(out).toBe('backend web\n  server s1 10.0.0.1:80 check\n  server s2 10.0.0.2:81 check\n');
  });

  it('names the template, line, column and variable when a variable is undefined', () => {
    const e = thrown(() => engine.renderFile('undefined.njk', { backends: [{ name: 'a' }] }, stepPos));
    // Found before rendering: the position is the name's own.
    expect(e.pos).toEqual({ file: shown('valid/templates/undefined.njk'), line: 6, col: 14 });
    expect(e.problem).toBe('undefined variable `balance_algo`');
    expect(e.shortMessage).toMatch(/undefined\.njk:6:14: undefined variable `balance_algo`/);
  });

  it('refuses an undefined variable read by `if` or `for`, where nothing is output, also in an included template', () => {
    const e = thrown(() => engine.renderFile('maint.njk', { backends: [] }, stepPos));
    expect(e.pos).toEqual({ file: shown('valid/templates/maint.njk'), line: 2, col: 7 });
    expect(e.problem).toBe('undefined variable `maintenance_mode`');
    const inc = thrown(() => engine.renderFile('maint.njk', { maintenance_mode: false, backends: [] }, stepPos));
    expect(inc.pos).toEqual({ file: shown('valid/templates/servers.njk'), line: 1, col: 13 });
    expect(inc.problem).toBe('undefined variable `backned`');
    expect(inc.hint).toBe('did you mean `backends`?');
    expect(engine.renderFile('maint.njk', { maintenance_mode: true, backned: [{ name: 'a' }] })).toBe('global\n  # maintenance\n  server a\n');
  });

  it('accepts names bound in the template and names guarded by `is defined` or `default`', () => {
    const out = engine.renderFile('guarded.njk', { base_port: 8000, backends: [{ name: 'b' }, { name: 'a' }] });
    expect(out).toBe('server a weight 1 port 8001 1 none\nserver b weight 1 port 8001 2 none\n');
    // Ansible's template module pads the output to the source's final newline (ansible-core
    // 2.14 writes 'x\n' for this file): see trailing-newlines.ts.
    expect(engine.renderFile('guarded.njk', { base_port: 1, backends: [], extra: 'x', tag: 't' })).toBe('x\n');
  });

  it('reports a template syntax error with its position', () => {
    const e = thrown(() => engine.renderFile('syntax.njk', { x: 1, y: 2 }, stepPos));
    expect(e.pos).toEqual({ file: shown('valid/templates/syntax.njk'), line: 4, col: 4 });
    expect(e.problem).toBe('template syntax error: unknown block tag: endfi');
  });

  it('reports a missing template at the step that names it', () => {
    const e = thrown(() => engine.renderFile('nope.njk', {}, stepPos));
    expect(e.pos).toEqual(stepPos);
    expect(e.problem).toBe(`template \`nope.njk\` not found in ${shown('valid/templates')}`);
  });
});

describe('TemplateEngine strings, expressions and values', () => {
  it('evaluates expressions to real JS values', () => {
    expect(engine.evaluate('xs | length > 1', { xs: [1, 2] })).toBe(true);
    expect(engine.evaluate("mode == 'dns'", { mode: 'template' })).toBe(false);
    expect(engine.evaluate('backends', { backends: [{ a: 1 }] })).toEqual([{ a: 1 }]);
    expect(engine.evaluate('n * 2', { n: 21 })).toBe(42);
  });

  it('reports an undefined expression at the given position', () => {
    const e = thrown(() => engine.evaluate('nothere.x', {}, stepPos));
    expect(e.pos).toEqual(stepPos);
    expect(e.problem).toBe('undefined variable `nothere` in `nothere.x`');
  });

  it('refuses an undefined variable in a condition that would otherwise just be false', () => {
    const e = thrown(() => engine.evaluate('enabled and mantenance', { enabled: false, maintenance: true }, stepPos));
    expect(e.pos).toEqual(stepPos);
    expect(e.problem).toBe('undefined variable `mantenance` in `enabled and mantenance`');
    expect(e.hint).toBe('did you mean `maintenance`?');
    expect(engine.evaluate('flag is defined and flag', {})).toBe(false);
    expect(engine.evaluate("(mode | default('dns')) == 'dns'", {})).toBe(true);
  });

  it('renders strings and shifts template lines to the YAML position', () => {
    expect(engine.renderString('port {{ p }}', { p: 80 })).toBe('port 80');
    const e = thrown(() => engine.renderString('a\nb {{ zz }}', {}, stepPos));
    expect(e.pos).toEqual({ file: 'playbooks/lb.yaml', line: 11, col: 6 });
    expect(e.problem).toBe('undefined variable `zz`');
    const e1 = thrown(() => engine.renderString('x {{ zz }}', {}, stepPos));
    expect(e1.pos).toEqual({ file: 'playbooks/lb.yaml', line: 10, col: 12 });
  });

  it('renders values deeply; a lone {{ expr }} keeps its type', () => {
    const vars = { xs: [1, 2], n: 4, s: "it's here", o: { k: 1 } };
    const out = engine.renderValue({ a: '{{ xs }}', b: 'n={{ n }}', c: ['{{ n + 1 }}', 3, true], d: 'plain', e: '{{ o }}' }, vars, () => stepPos);
    expect(out).toEqual({ a: [1, 2], b: 'n=4', c: [5, 3, true], d: 'plain', e: { k: 1 } });
  });

  it('passes the path of a failing string to posOf', () => {
    const seen: unknown[] = [];
    const e = thrown(() =>
      engine.renderValue({ list: ['ok', '{{ missing }}'] }, {}, (p) => {
        seen.push(p);
        return { file: 'pb.yaml', line: 3, col: 9 };
      }),
    );
    expect(seen).toEqual([['list', 1]]);
    expect(e.pos).toEqual({ file: 'pb.yaml', line: 3, col: 9 });
  });

  it('has quote, to_json and b64encode filters (Ansible\'s output: shlex.quote, json.dumps spacing)', () => {
    expect(engine.renderString('{{ s | quote }}', { s: "it's" })).toBe(`'it'"'"'s'`);
    expect(engine.renderString('{{ s | quote }}', { s: 'plain-word' })).toBe('plain-word');
    expect(engine.renderString('{{ o | to_json }}', { o: { a: [1, 'x'] } })).toBe('{"a": [1, "x"]}');
    expect(engine.renderString('{{ s | b64encode }}', { s: 'hello' })).toBe('aGVsbG8=');
    expect(engine.renderString('{{ "<b>" }}', {})).toBe('<b>'); // no HTML escaping
  });
});
