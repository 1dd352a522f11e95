import { describe, expect, it } from 'vitest';
import { render, value } from './helpers.js';

describe('string filters', () => {
  it('format: Python %-formatting', () => {
    expect(render("{{ '%s:%d' | format('host', 80) }}")).toBe('host:80');
    expect(render("{{ '%-6s|%5.2f|%03d|%x|%r' | format('ab', 3.14159, 7, 255, 'q') }}")).toBe("ab    | 3.14|007|ff|'q'");
    expect(render("{{ '%s' | format([1, 'a']) }}")).toBe("[1, 'a']");
    expect(render("{{ '%(a)s-%(b)s' | format(a=1, b='z') }}")).toBe('1-z');
    expect(render("{{ '%%' | format() }}")).toBe('%');
  });
  it('regex_replace, regex_search, regex_findall, regex_escape (Python syntax)', () => {
    expect(render("{{ 'host-01.example.com' | regex_replace('^host-(\\d+)\\..*$', 'node\\1') }}")).toBe('node01');
    expect(render("{{ 'abc-123' | regex_replace('(?P<w>[a-z]+)-(\\d+)', '\\g<2>_\\g<w>') }}")).toBe('123_abc');
    expect(render("{{ 'ABC abc' | regex_replace('abc', 'x', ignorecase=true) }}")).toBe('x x');
    expect(value("'port=8080 x' | regex_search('port=(\\d+)', '\\1')")).toEqual(['8080']);
    expect(render("{{ 'port=8080 x' | regex_search('port=\\d+') }}")).toBe('port=8080');
    expect(render("[{{ 'nothing' | regex_search('port') }}]")).toBe('[]');
    expect(value("'a1b22c333' | regex_findall('\\d+')")).toEqual(['1', '22', '333']);
    expect(value("'k1=v1 k2=v2' | regex_findall('(\\w+)=(\\w+)')")).toEqual([['k1', 'v1'], ['k2', 'v2']]);
    expect(render("{{ 'a.b*c' | regex_escape }}")).toBe('a\\.b\\*c');
  });
  it('b64encode / b64decode, hash, password_hash (crypt SHA-512 / SHA-256)', () => {
    expect(render("{{ 'hello' | b64encode }} {{ 'aGVsbG8=' | b64decode }}")).toBe('aGVsbG8= hello');
    expect(render("{{ 'hello' | hash }} {{ 'hello' | hash('md5') }}")).toBe('aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d 5d41402abc4b2a76b9719d911017c592');
    expect(render("{{ 'hello' | hash('sha256') }}")).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    expect(render("{{ 'secret' | password_hash('sha512', 'saltsalt') }}")).toBe('$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1');
    expect(render("{{ 'secret' | password_hash('sha256', 'abc', rounds=1000) }}")).toBe('$5$rounds=1000$abc$Mz4DiYKTnNKbZLo/mIp3d8Y4aQBhv3uhSwxLDy55/Y8');
    expect(() => render("{{ 'secret' | password_hash('sha512') }}")).toThrow(/needs a salt/);
  });
  it('quote: shlex.quote byte for byte', () => {
    expect(render("{{ \"it's a $x\" | quote }} {{ 'plain-word' | quote }} {{ '' | quote }}")).toBe(`'it'"'"'s a $x' plain-word ''`);
  });
  it('bool, int, ternary as Ansible defines them', () => {
    expect(value("['yes' | bool, 'off' | bool, 1 | bool, 'True' | bool]")).toEqual([true, false, true, true]);
    expect(value("['42' | int + 1, '3.7' | int, 'x' | int, 'x' | int(7), '0x1A' | int(base=16), ' 12 ' | int]")).toEqual([43, 3, 0, 7, 26, 12]);
    expect(render("{{ true | ternary('on', 'off') }} {{ [] | ternary('on', 'off') }} {{ none | ternary('a', 'b', 'n') }}")).toBe('on off n');
  });
  it('basename / dirname as os.path', () => {
    expect(render("{{ '/etc/app/conf.d/x.cfg' | basename }} {{ '/etc/app/conf.d/x.cfg' | dirname }} [{{ '/a/b/' | basename }}] {{ '/a/b/' | dirname }} [{{ 'x' | dirname }}] {{ '/x' | dirname }}")).toBe(
      'x.cfg /etc/app/conf.d [] /a/b [] /',
    );
  });
  it('indent(width, first) with Jinja 3 keywords', () => {
    expect(render("{{ 'a\nb\n\nc' | indent(2) }}|{{ 'a\nb' | indent(width=3, first=true) }}")).toBe('a\n  b\n\n  c|   a\n   b');
  });
});
