import os from 'node:os';
import { describe, expect, it } from 'vitest';
import type { SourcePos } from '../../../src/config/errors.js';
import { LazyVars, type VarPositions } from '../../../src/config/lazy-vars.js';
import { TemplateEngine } from '../../../src/config/templates.js';
import { thrown } from './helpers.js';

const engine = new TemplateEngine(os.tmpdir());
const use: SourcePos = { file: 'playbooks/site.yaml', line: 20, col: 5 };

/** Each var sits on its own line of vars.yaml, value at column 9 (`  name: value`). */
function lazy(raw: Record<string, unknown>, literal: string[] = []): LazyVars {
  const positions: VarPositions = {};
  Object.keys(raw).forEach((k, i) => (positions[k] = () => ({ file: 'vars.yaml', line: i + 2, col: 9 })));
  return new LazyVars(raw, positions, (v, vars, posOf) => engine.renderValue(v, vars, posOf), (k) => literal.includes(k));
}

describe('vars whose values hold templates', () => {
  it('render when read, recursively, against the host', () => {
    const vars = lazy({ host: { name: 'web-1' }, base: '/srv', root: '{{ base }}/{{ host.name }}', conf: '{{ root }}/etc' });
    expect(engine.renderString('{{ conf }}/app.conf', vars, use)).toBe('/srv/web-1/etc/app.conf');
  });

  it('keep the type of a single expression, and render inside maps and lists', () => {
    const vars = lazy({ ports: [80, 443], first: '{{ ports[0] }}', all: { list: '{{ ports }}', names: ['a-{{ ports | length }}'] } });
    expect(engine.evaluate('first + 1', vars, use)).toBe(81);
    expect(engine.evaluate('all', vars, use)).toEqual({ list: [80, 443], names: ['a-2'] });
  });

  it('see a loop item added with `with`, rendered afresh per item', () => {
    const vars = lazy({ dir: '/srv/{{ item }}' });
    expect(engine.renderString('{{ dir }}', vars.with('item', 'a'), use)).toBe('/srv/a');
    expect(engine.renderString('{{ dir }}', vars.with('item', 'b'), use)).toBe('/srv/b');
  });

  it('leave literal vars (secrets, built-ins) unrendered', () => {
    const vars = lazy({ token: 'a{{b}}c' }, ['token']);
    expect(engine.renderString('{{ token }}', vars, use)).toBe('a{{b}}c');
  });

  it('give a guarded var its default when its own value is undefined, as Ansible does', () => {
    const vars = lazy({ opt: '{{ missing }}' });
    expect(engine.renderString("{{ opt | default('none') }}", vars, use)).toBe('none');
  });

  it('refuse a cycle by name, at the first var of the cycle, then where it is used', () => {
    const vars = lazy({ a: '{{ b }}/x', b: '{{ c }}', c: '{{ a }}' });
    const e = thrown(() => engine.renderString('{{ a }}', vars, use));
    expect(e.problem).toBe('var cycle: a -> b -> c -> a; `a` used at playbooks/site.yaml:20:8');
    expect(e.pos).toEqual({ file: 'vars.yaml', line: 2, col: 9 });
  });

  it('report an undefined name inside a value at the var itself, then each use', () => {
    const vars = lazy({ app: 'demo', root: '/srv/{{ app_nme }}', conf: '{{ root }}/etc' });
    const e = thrown(() => engine.renderString('{{ conf }}', vars, use));
    expect(e.pos).toEqual({ file: 'vars.yaml', line: 3, col: 17 });
    expect(e.problem).toBe('undefined variable `app_nme` in the value of var `root`; `root` used at vars.yaml:4:12, `conf` used at playbooks/site.yaml:20:8');
    expect(e.hint).toBe('did you mean `app`?');
  });

  it('do not render a var that nothing reads (lazy): its error never shows', () => {
    const vars = lazy({ unused: '{{ nowhere }}', name: 'x' });
    expect(engine.renderString('{{ name }}', vars, use)).toBe('x');
  });
});
