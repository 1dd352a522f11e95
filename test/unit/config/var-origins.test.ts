/** Errors about a var's value name where the var is defined, then where it is used. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { blameVariable, referencedVars, varOrigins } from '../../../src/config/var-origins.js';

const pos = (file: string, line: number, col: number) => ({ file, line, col });

describe('var origins', () => {
  it('keeps the winning layer of every var (later layers win, as mergeVars)', () => {
    const origins = varOrigins(
      [
        { path: ['vars'], vars: { a: 1, b: 2 } },
        { path: ['groups', 'lb', 'vars'], vars: { b: 3 } },
        { path: ['hosts', 'lb-1', 'vars'], vars: undefined },
      ],
      (p) => pos('inv.yaml', p.length, p.join('.').length),
    );
    expect(origins).toEqual({ a: pos('inv.yaml', 2, 'vars.a'.length), b: pos('inv.yaml', 4, 'groups.lb.vars.b'.length) });
  });

  it('reads the top-level names of template expressions', () => {
    expect(referencedVars('"{{ consul_sha256 }}"')).toEqual(['consul_sha256']);
    expect(referencedVars('https://x/{{ v | trim }}/{{- host.name }}/{{ v }}')).toEqual(['v', 'host']);
    expect(referencedVars('plain')).toEqual([]);
  });

  it('moves the error to the definition and says where the value is used', () => {
    const err = new ConfigError('expected a SHA-256 of 64 hex digits', pos('playbooks/consul-client.yaml', 42, 15));
    const blamed = blameVariable(err, '"{{ consul_sha256 }}"', { consul_sha256: pos('inventory/prod.yaml', 17, 18) });
    expect(blamed.shortMessage).toBe(
      'inventory/prod.yaml:17:18: var `consul_sha256`: expected a SHA-256 of 64 hex digits (used at playbooks/consul-client.yaml:42:15)',
    );
  });

  it('keeps a hint, and leaves errors whose value names no defined var alone', () => {
    const err = new ConfigError('bad mode', pos('p.yaml', 3, 4), "quote it: '0644'");
    expect(blameVariable(err, '"{{ m }}"', { m: pos('i.yaml', 1, 2) }).shortMessage).toBe(
      "i.yaml:1:2: var `m`: bad mode (quote it: '0644'; used at p.yaml:3:4)",
    );
    expect(blameVariable(err, '"{{ item.mode }}"', { m: pos('i.yaml', 1, 2) })).toBe(err);
    expect(blameVariable(err, "'0999'", { m: pos('i.yaml', 1, 2) })).toBe(err);
    expect(blameVariable(err, undefined, {})).toBe(err);
  });
});
