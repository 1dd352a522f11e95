/**
 * Shell text as a type (src/resources/sh.ts): quoting by construction, proved by running
 * the generated text in a real `sh` with hostile values, and the one raw escape kept to
 * the files that need it.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { chompSh, joinSh, rawSh, Sh, sh, shHeredoc, shVar } from '../../../src/resources/sh.js';
import { sh as runSh } from './run-sh.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'provision-sh-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const canary = path.join(tmp, 'pwned');

/** Values an inventory could hold, each an attempt to run `touch $canary`. */
const HOSTILE = [
  `it's`,
  `'; touch ${canary}; echo '`,
  `"; touch ${canary}; echo "`,
  `$(touch ${canary})`,
  '`touch ' + canary + '`',
  `\${HOME}$HOME`,
  `a\nb; touch ${canary}\n`,
  `-rf`,
  `--`,
  `-n`,
  ' leading and trailing spaces ',
  '*',
  '~root',
  'a\\b\\\\',
  '',
  "''",
  '\t',
  'é ✓',
];

/** The words `text` makes, as the shell splits them, read back NUL-separated. */
function wordsOf(text: Sh): string[] {
  const r = runSh(sh`set -- ${text}\nprintf '%s\\0' "$#" "$@"`);
  expect(r.status, r.stderr).toBe(0);
  const [count, ...words] = r.stdout.split('\0').slice(0, -1);
  expect(Number(count)).toBe(words.length);
  return words;
}

describe('sh`...` quotes every interpolated value', () => {
  it.each(HOSTILE.map((v) => [JSON.stringify(v), v]))('%s is one word, exactly as given, and runs nothing', (_, value) => {
    expect(wordsOf(sh`${value}`)).toEqual([value]);
    // Also where a command takes it: as an argument and as a file name.
    const r = runSh(sh`printf '%s' ${value} > ${path.join(tmp, 'out')} && cat -- ${path.join(tmp, 'out')}`);
    expect(r.stdout).toBe(value);
    expect(existsSync(canary)).toBe(false);
  });

  it('an array is one quoted word per element, joined by spaces', () => {
    expect(wordsOf(sh`${HOSTILE}`)).toEqual(HOSTILE);
    expect(sh`getent group -- ${['consul', 'a b']}`.text).toBe("getent group -- consul 'a b'");
    expect(sh`x ${[]} y`.text).toBe('x  y');
    expect(existsSync(canary)).toBe(false);
  });

  it('numbers are words; other types are refused', () => {
    expect(sh`kill -s TERM ${1234} ${-1} ${2.5}`.text).toBe('kill -s TERM 1234 -1 2.5');
    expect(() => sh`${Number.NaN}`).toThrow(/not a number/);
    expect(() => sh`${true as unknown as string}`).toThrow(/cannot interpolate a boolean/);
    expect(() => sh`${undefined as unknown as string}`).toThrow(/cannot interpolate a undefined/);
  });

  it('an interpolated Sh is inserted as it is; the literal parts are kept as written', () => {
    const inner = sh`printf '%s\\n' ${"it's"}`;
    expect(sh`{ ${inner}; } 2>&1`.text).toBe(`{ printf '%s\\n' 'it'\\''s'; } 2>&1`);
    expect(sh`a\nb`.text).toBe('a\nb');
    expect(sh`"\${x#,}"`.text).toBe('"${x#,}"');
  });

  it('safe words stay bare, so generated scripts keep their bytes', () => {
    expect(sh`${'/etc/haproxy/haproxy.cfg'} ${'0644'} ${'UNIX-CONNECT:/run/x.sock'} ${'a,b=c@d%e+f'}`.text).toBe(
      '/etc/haproxy/haproxy.cfg 0644 UNIX-CONNECT:/run/x.sock a,b=c@d%e+f',
    );
  });
});

describe('the other builders', () => {
  it('joinSh joins with a newline or the Sh given', () => {
    expect(joinSh([sh`a`, sh`b ${'c d'}`]).text).toBe("a\nb 'c d'");
    expect(joinSh([sh`a`, sh`b`], sh` && `).text).toBe('a && b');
    expect(joinSh([]).text).toBe('');
  });

  it('shVar takes a shell variable name and nothing else', () => {
    expect(sh`${shVar('_v_conf_d')}=1; echo "$${shVar('_v_conf_d')}"`.text).toBe('_v_conf_d=1; echo "$_v_conf_d"');
    for (const bad of ['', '1x', 'a-b', 'a b', '$(id)', 'x;y']) expect(() => shVar(bad)).toThrow(/not a shell variable name/);
  });

  it('shHeredoc keeps its body as data and refuses a body that would end it early', () => {
    const doc = shHeredoc('_P_1', `$(touch ${canary})\n\`id\`\n`);
    const r = runSh(sh`cat ${doc}`);
    expect(r.stdout).toBe(`$(touch ${canary})\n\`id\`\n`);
    expect(existsSync(canary)).toBe(false);
    expect(sh`cat ${shHeredoc('_P_1', 'x\n', sh` || exit 1`)}`.text).toBe("cat <<'_P_1' || exit 1\nx\n_P_1\n");
    expect(() => shHeredoc('_P_1', 'x\n_P_1\ny\n')).toThrow(/would not end/);
    expect(() => shHeredoc('_P_1', 'no final newline')).toThrow(/would not end/);
    expect(() => shHeredoc("a'b", 'x\n')).toThrow(/not a here-document tag/);
  });

  it('chompSh drops one final newline only', () => {
    expect(chompSh(sh`a\n\n`).text).toBe('a\n');
    expect(chompSh(sh`a`).text).toBe('a');
  });

  it('an Sh is made only by this module', () => {
    expect(() => new (Sh as unknown as new (m: symbol, t: string) => Sh)(Symbol('sh'), 'rm -rf /')).toThrow(/build shell text with/);
    // @ts-expect-error: a plain string is not shell text (the compiler says so).
    const notSh: Sh = 'echo hi';
    expect(notSh instanceof Sh).toBe(false);
    expect(String(sh`echo ${'a b'}`)).toBe("echo 'a b'");
    expect(JSON.stringify({ s: sh`echo` })).toBe('{"s":"echo"}');
  });
});

describe('raw shell stays where it belongs', () => {
  const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
  const uses = (re: RegExp) =>
    Object.fromEntries(
      files(SRC)
        .map((f) => [path.relative(SRC, f), (readFileSync(f, 'utf8').match(re) ?? []).length] as const)
        .filter(([, n]) => n > 0)
        .sort(([a], [b]) => a.localeCompare(b)),
    );

  it('rawSh is called only for the user`s own commands and the sh libraries', () => {
    // The user's commands: `command` steps (cmd, unless), validate (file-common),
    // validate_set (apply-script). The sh libraries: apply-script, restore-script, health-script.
    const { 'resources/sh.ts': _definition, ...calls } = uses(/\brawSh\(/g);
    expect(calls).toEqual({
      'engine/apply-script.ts': 5,
      'engine/health-script.ts': 1,
      'engine/restore-script.ts': 2,
      'resources/command.ts': 2,
      'resources/file-common.ts': 1,
    });
  });

  it('shell quoting outside sh`...` is left to redaction and the transport`s own wrappers', () => {
    expect(Object.keys(uses(/\bshellQuote\b/g))).toEqual([
      'config/shell-quote.ts',
      'report/redact.ts',
      'resources/sh.ts',
      'transport/remote-exec.ts',
    ]);
  });
});
