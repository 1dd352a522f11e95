import { describe, expect, it } from 'vitest';
import { value } from './helpers.js';

describe('map and dict filters', () => {
  it('combine, recursive and list_merge', () => {
    expect(value("{'a': 1, 'b': {'c': 2, 'l': [1]} } | combine({'b': {'d': 3, 'l': [2]} }, recursive=true)")).toEqual({ a: 1, b: { c: 2, l: [2], d: 3 } });
    expect(value("{'a': 1, 'b': {'c': 2, 'l': [1]} } | combine({'b': {'d': 3, 'l': [2]} }, {'e': 5}, recursive=true, list_merge='append')")).toEqual({ a: 1, b: { c: 2, l: [1, 2], d: 3 }, e: 5 });
    expect(value("{'a': {'x': 1} } | combine({'a': {'y': 2} })")).toEqual({ a: { y: 2 } });
  });
  it('dict2items and items2dict', () => {
    expect(value("{'a': 1, 'b': 2} | dict2items")).toEqual([{ key: 'a', value: 1 }, { key: 'b', value: 2 }]);
    expect(value("{'a': 1} | dict2items(key_name='k', value_name='v')")).toEqual([{ k: 'a', v: 1 }]);
    expect(value("[{'key': 'a', 'value': 1}, {'key': 'b', 'value': 2}] | items2dict")).toEqual({ a: 1, b: 2 });
  });
});

describe('list filters', () => {
  it('map(attribute=) and map(filter)', () => {
    expect(value("[{'n': 'x', 'p': 2}, {'n': 'y', 'p': 1}] | map(attribute='n') | list")).toEqual(['x', 'y']);
    expect(value("['a', 'B'] | map('upper') | list")).toEqual(['A', 'B']);
    expect(value("[{'n': 'x'}, {}] | map(attribute='n', default='-') | list")).toEqual(['x', '-']);
  });
  it('select / reject with a named test, selectattr / rejectattr with an operator test', () => {
    expect(value("[1, 2, 3, 4] | select('odd') | list")).toEqual([1, 3]);
    expect(value("[1, 2, 3, 4] | reject('equalto', 2) | list")).toEqual([1, 3, 4]);
    expect(value("['web1', 'db1', 'web2'] | select('match', '^web') | list")).toEqual(['web1', 'web2']);
    expect(value("[{'n': 'x', 'on': true}, {'n': 'y', 'on': false}] | selectattr('on') | map(attribute='n') | list")).toEqual(['x']);
    expect(value("[{'n': 'x', 'p': 80}, {'n': 'y', 'p': 8080}] | selectattr('p', '>', 1024) | map(attribute='n') | list")).toEqual(['y']);
    expect(value("[{'n': 'x', 'p': 80}, {'n': 'y', 'p': 8080}] | rejectattr('p', 'equalto', 80) | map(attribute='n') | list")).toEqual(['y']);
    expect(value("[{'n': 'x', 'g': ['a']}, {'n': 'y', 'g': ['b']}] | selectattr('g', 'contains', 'b') | map(attribute='n') | list")).toEqual(['y']);
  });
  it('unique (case-insensitive by default, first kept), union, difference, intersect', () => {
    expect(value("['b', 'A', 'a', 'B', 'c'] | unique")).toEqual(['b', 'A', 'c']);
    expect(value("['b', 'A', 'a', 'B', 'c'] | unique(case_sensitive=true)")).toEqual(['b', 'A', 'a', 'B', 'c']);
    expect(value('[1, 2, 3] | union([3, 4, 1])')).toEqual([1, 2, 3, 4]);
    expect(value('[1, 2, 3, 2] | difference([3])')).toEqual([1, 2]);
    expect(value('[1, 2, 3, 2] | intersect([2, 3, 5])')).toEqual([2, 3]);
  });
  it('flatten (nulls skipped), levels', () => {
    expect(value("[1, [2, [3, [4]]], none, 'None'] | flatten")).toEqual([1, 2, 3, 4]);
    expect(value('[1, [2, [3, [4]]]] | flatten(levels=1)')).toEqual([1, 2, [3, [4]]]);
  });
  it('min, max (case-insensitive), attribute=', () => {
    expect(value('[3, 1, 2] | min')).toBe(1);
    expect(value('[3, 1, 2] | max')).toBe(3);
    expect(value("['b', 'A', 'c'] | max")).toBe('c');
    expect(value("[{'p': 3}, {'p': 1}] | min(attribute='p')")).toEqual({ p: 1 });
  });
  it('sort: stable, attribute=, reverse keeps equal items in order, case-insensitive by default', () => {
    const items = "[{'n': 'b', 'p': 2}, {'n': 'a', 'p': 2}, {'n': 'c', 'p': 1}]";
    expect(value(`${items} | sort(attribute='p') | map(attribute='n') | list`)).toEqual(['c', 'b', 'a']);
    expect(value(`${items} | sort(attribute='p', reverse=true) | map(attribute='n') | list`)).toEqual(['b', 'a', 'c']);
    expect(value("['b', 'C', 'a'] | sort")).toEqual(['a', 'b', 'C']);
    expect(value("['b', 'C', 'a'] | sort(case_sensitive=true)")).toEqual(['C', 'a', 'b']);
  });
});
