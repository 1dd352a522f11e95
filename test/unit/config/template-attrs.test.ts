/** Attributes a `for` iterates are checked against the host's objects before rendering. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { TemplateEngine } from '../../../src/config/templates.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'provision-attrs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const engine = new TemplateEngine(dir);
const backends = [
  { name: 'api', options: ['httplog'], servers: [{ name: 's1', addr: '10.0.0.1' }] },
  { name: 'web', options: ['forwardfor'] },
];

function render(name: string, text: string, vars: object): string | ConfigError {
  writeFileSync(path.join(dir, name), text);
  try {
    return engine.renderFile(name, vars);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
}

describe('undefined attributes in {% for %}', () => {
  it('refuses an attribute no object has, at its position, with the nearest one', () => {
    const e = render('a.njk', '{% for b in backends %}\n{% for o in b.optionz %}{{ o }}{% endfor %}\n{% endfor %}\n', { backends });
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).problem).toBe('undefined attribute `optionz` of `b`');
    expect((e as ConfigError).hint).toBe('did you mean `options`?');
    expect((e as ConfigError).pos).toMatchObject({ line: 2, col: 15 });
  });

  it('follows a var directly and through nested loops', () => {
    const e = render('b.njk', '{% for s in cfg.listen.portz %}{{ s }}{% endfor %}', { cfg: { listen: { ports: [80] } } });
    expect((e as ConfigError).problem).toBe('undefined attribute `portz` of `cfg.listen`');
    const f = render('c.njk', '{% for b in backends %}{% for s in b.servers %}{% for x in s.tagz %}{% endfor %}{% endfor %}{% endfor %}', { backends });
    expect((f as ConfigError).problem).toBe('undefined attribute `tagz` of `s`');
  });

  it('accepts an attribute some objects have, or one guarded anywhere', () => {
    expect(render('d.njk', '{% for b in backends %}{% for s in b.servers %}{{ s.name }} {% endfor %}{% endfor %}', { backends })).toBe('s1 ');
    expect(render('e.njk', '{% for b in backends %}{% if b.extra %}{% for x in b.extra %}{{ x }}{% endfor %}{% endif %}{% endfor %}', { backends })).toBe('');
    expect(render('f.njk', '{% for b in backends %}{% for x in b.extra | default([]) %}{{ x }}{% endfor %}{% endfor %}', { backends })).toBe('');
  });

  it('does not guess through names the template binds itself', () => {
    expect(render('g.njk', '{% set backends = [{ "extra": [1] }] %}{% for b in backends %}{% for x in b.extra %}{{ x }}{% endfor %}{% endfor %}', { backends })).toBe('1');
  });
});
