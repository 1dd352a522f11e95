/**
 * One owner per managed path, except `line` steps that edit different lines of one file
 * (resources/path-owners.ts).
 */
import { describe, expect, it } from 'vitest';
import { PathOwners } from '../../../src/resources/path-owners.js';

const at = (line: number) => ({ file: 'playbooks/env.yaml', line, col: 5 });

describe('PathOwners', () => {
  it('accepts several line steps on one file when each matches its own lines', () => {
    const o = new PathOwners();
    expect(o.claim('line', { path: '/etc/default/haproxy', regexp: '^EXTRAOPTS=', line: 'EXTRAOPTS=-x' }, at(2))).toBeUndefined();
    expect(o.claim('line', { path: '/etc/default/haproxy', regexp: '^CONFIG=', line: 'CONFIG=/etc/haproxy' }, at(4))).toBeUndefined();
    expect(o.claim('line', { path: '/etc/default/haproxy', line: 'ENABLED=1' }, at(6))).toBeUndefined();
  });

  it('refuses two line steps that match the same lines with different results, naming the first', () => {
    const o = new PathOwners();
    o.claim('line', { path: '/etc/x', regexp: '^A=', line: 'A=1' }, at(2));
    o.claim('line', { path: '/etc/x', regexp: '^B=', line: 'B=1' }, at(4));
    const e = o.claim('line', { path: '/etc/x', regexp: '^A=', line: 'A=2' }, at(6));
    expect(e?.message).toContain('matches the same lines of /etc/x as the `line` step at playbooks/env.yaml:2:5');
  });

  it('refuses two line steps that give the file different modes', () => {
    const o = new PathOwners();
    o.claim('line', { path: '/etc/x', regexp: '^A=', line: 'A=1', mode: '0600' }, at(2));
    expect(o.claim('line', { path: '/etc/x', regexp: '^B=', line: 'B=1', mode: '0644' }, at(4))?.message).toContain('mode 0644');
  });

  it('still refuses a file or template on a path line steps edit, and the other way round', () => {
    const o = new PathOwners();
    o.claim('line', { path: '/etc/x', regexp: '^A=', line: 'A=1' }, at(2));
    expect(o.claim('template', { src: 'x.njk', dest: '/etc/x' }, at(4))?.message).toContain('which the `line` step at playbooks/env.yaml:2:5 manages too');
    const p = new PathOwners();
    p.claim('file', { dest: '/etc/y', content: 'y' }, at(2));
    expect(p.claim('line', { path: '/etc/y', line: 'z' }, at(4))?.message).toContain('manages too');
  });
});
