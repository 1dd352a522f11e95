import { describe, expect, it } from 'vitest';
import { render } from './helpers.js';

describe('JSON filters (Python json.dumps spacing)', () => {
  it('tojson: sorted keys, a space after : and ,', () => {
    expect(render("{{ {'b': 1, 'a': [1, 'x']} | tojson }}")).toBe('{"a": [1, "x"], "b": 1}');
    expect(render("{{ {'a': '<&>'} | tojson }}")).toBe('{"a": "\\u003c\\u0026\\u003e"}');
  });
  it('to_json: keys in order, non-ASCII escaped, indent with "," line ends', () => {
    expect(render("{{ {'b': 1, 'a': '<é>'} | to_json }}")).toBe('{"b": 1, "a": "<\\u00e9>"}');
    expect(render("{{ {'z': 1, 'a': {'y': true, 'b': none} } | to_json }}")).toBe('{"z": 1, "a": {"y": true, "b": null}}');
    expect(render("{{ {'b': 1, 'a': [1, 2]} | to_json(indent=2) }}")).toBe('{\n  "b": 1,\n  "a": [\n    1,\n    2\n  ]\n}');
  });
  it('to_nice_json: indent 4, sorted keys, empty collections inline', () => {
    expect(render("{{ {'b': 1, 'a': [1, {'c': none}], 'e': [], 'f': {} } | to_nice_json }}")).toBe(
      '{\n    "a": [\n        1,\n        {\n            "c": null\n        }\n    ],\n    "b": 1,\n    "e": [],\n    "f": {}\n}',
    );
  });
});

describe('YAML filters (PyYAML emitter as Ansible calls it)', () => {
  it('to_yaml: collections of scalars inline, quoting where a value would change type', () => {
    const v = "{'b': [1, 'two', {'x': 'y', 'a': true}], 'a': {'k': 'v w', 'n': none, 's': 'yes', 'e': '', 'q': \"it's\", 'c': 'a: b', 'num': '123'} }";
    expect(render(`{{ ${v} | to_yaml }}`)).toBe("a: {c: 'a: b', e: '', k: v w, n: null, num: '123', q: it's, s: 'yes'}\nb:\n- 1\n- two\n- {a: true, x: y}\n");
  });
  it('to_nice_yaml: block style, indent 4, lists in maps not indented, "-   " before a nested collection', () => {
    const v = "{'b': [1, 'two', {'x': 'y', 'a': true}], 'a': {'k': 'v w', 'n': none, 's': 'yes', 'l': [[1, 2], {'z': 1}]}, 'f': 1.5}";
    expect(render(`{{ ${v} | to_nice_yaml }}`)).toBe('a:\n    k: v w\n    l:\n    -   - 1\n        - 2\n    -   z: 1\n    n: null\n    s: \'yes\'\nb:\n- 1\n- two\n-   a: true\n    x: y\nf: 1.5\n');
    expect(render("{{ ['a', 'b'] | to_nice_yaml }}")).toBe('- a\n- b\n');
  });
  it('folds a long string at 80 columns, a multi-line one with an empty line, like PyYAML', () => {
    expect(render("{{ {'long': v} | to_nice_yaml }}", { v: 'x '.repeat(50) })).toBe(`long: '${'x '.repeat(37)}x\n    ${'x '.repeat(12)}'\n`);
    expect(render("{{ {'a': 'multi\nline'} | to_nice_yaml }}")).toBe("a: 'multi\n\n    line'\n");
  });
  it('quotes what would read back as another type or starts with an indicator', () => {
    const v = "{'x': 'yes', 'y': '1.5', 'z': '~', 'w': '- a', 'v': '#c', 'u': 'a #b', 't': '2024-01-01', 's': '@x'}";
    expect(render(`{{ ${v} | to_yaml }}`)).toBe("{s: '@x', t: '2024-01-01', u: 'a #b', v: '#c', w: '- a', x: 'yes', y: '1.5', z: '~'}\n");
    expect(render("{{ ['a', 'b'] | to_yaml }}")).toBe('[a, b]\n');
  });
});
