/** What a template reads from its context, from its syntax tree (pure). */
import { describe, expect, it } from 'vitest';
import { templateNames } from '../../../src/config/template-names.js';

const reads = (src: string) => templateNames(src).reads.map((r) => r.name);

describe('templateNames', () => {
  it('lists names read by output, if, for, filters, tests, calls and subscripts, at their first use', () => {
    expect(templateNames('a\n{% if on %}{{ x }}{% endif %}\n  {{ x }}').reads).toEqual([
      { name: 'on', line: 2, col: 7 },
      { name: 'x', line: 2, col: 15 },
    ]);
    expect(reads('{% for s in servers | sort(attribute=key) %}{% endfor %}')).toEqual(['servers', 'key']);
    expect(reads('{{ a is divisibleby(n) }}{{ f(kw=v) }}{{ m[k] }}{{ {b: q} }}{{ p if c else z }}{{ "%s" | format(s) }}')).toEqual(['a', 'n', 'f', 'v', 'm', 'k', 'q', 'c', 'p', 'z', 's']);
  });

  it('does not count what is not a lookup: filter and test names, keyword names, dict keys, attributes, raw text', () => {
    expect(reads('{{ x | upper | join(sep=",") }}{{ y is number }}{{ {key: 1}.key }}{{ o.attr }}{% raw %}{{ nope }}{% endraw %}')).toEqual(['x', 'y', 'o']);
  });

  it('does not count names the template binds anywhere, nor nunjucks built-ins', () => {
    const src = [
      '{% set total = 1 %}{% set a, b = pair %}',
      '{% for k, v in map %}{{ k }}{{ v }}{{ loop.index }}{% endfor %}',
      '{% macro srv(name, port=80) %}{{ name }}{{ port }}{{ caller() }}{% endmacro %}',
      '{% from "m.njk" import one as uno, two %}{% import "n.njk" as n %}',
      '{{ total }}{{ a }}{{ b }}{{ srv("x") }}{{ uno() }}{{ two() }}{{ n.f() }}{{ range(3) }}{{ cycler(1, 2) }}',
    ].join('\n');
    expect(reads(src)).toEqual(['pair', 'map']);
  });

  it('exempts a name guarded anywhere by `is defined`, `is undefined` or `default`', () => {
    expect(reads('{% if x is defined %}{{ x }}{% endif %}{{ y | default(1) }}{{ y }}{{ z | d("") }}{% if w is undefined %}{% endif %}{{ u }}')).toEqual(['u']);
  });

  it('lists literal includes, whose templates read the same context', () => {
    expect(templateNames('{% include "a.njk" %}{% include name %}').includes).toEqual(['a.njk']);
    expect(reads('{% include name %}')).toEqual(['name']);
  });

  it('throws on a syntax error (the render reports it with its position)', () => {
    expect(() => templateNames('{% if x %}')).toThrow();
  });
});
