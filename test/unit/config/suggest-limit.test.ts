import { describe, expect, it } from 'vitest';
import { globToRegExp, selectHosts } from '../../../src/config/limit.js';
import { didYouMean, editDistance } from '../../../src/config/suggest.js';

describe('editDistance / didYouMean', () => {
  it('counts a transposition as one edit', () => {
    expect(editDistance('prot', 'port')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
  it('suggests within distance 2 or by prefix, else nothing', () => {
    expect(didYouMean('adress', ['address', 'port'])).toBe('did you mean `address`?');
    expect(didYouMean('play', ['playbooks', 'vars'])).toBe('did you mean `playbooks`?');
    expect(didYouMean('zzzzzz', ['playbooks', 'vars'])).toBeUndefined();
  });
});

describe('selectHosts', () => {
  const hosts = ['a-1', 'a-2', 'b-1'];
  const groups = new Map([['alpha', ['a-1', 'a-2']], ['empty', []]]);
  it('matches globs with character classes', () => {
    expect(globToRegExp('a-[!1]').test('a-2')).toBe(true);
    expect(globToRegExp('a-[!1]').test('a-1')).toBe(false);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });
  it('accepts an existing but empty group', () => {
    expect(selectHosts('empty,b-1', hosts, groups)).toEqual(['b-1']);
  });
  it('combines groups and exclusions', () => {
    expect(selectHosts(' alpha , !a-1 ', hosts, groups)).toEqual(['a-2']);
  });
});
