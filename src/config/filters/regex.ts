/**
 * Python regular expressions (what Ansible's regex filters take) turned into JavaScript
 * ones. The syntax is shared except named groups (`(?P<n>...)`, `(?P=n)`), `\A` / `\Z`,
 * and replacement references (`\1`, `\g<1>`, `\g<name>`).
 */
import { FilterError } from './args.js';

export function pyRegex(pattern: string): string {
  return pattern
    .replace(/\(\?P<(\w+)>/g, '(?<$1>')
    .replace(/\(\?P=(\w+)\)/g, '\\k<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\Z/g, '$(?![\\s\\S])');
}

export function compile(pattern: string, flags: string): RegExp {
  try {
    return new RegExp(pyRegex(pattern), flags);
  } catch (e) {
    throw new FilterError(`bad regular expression \`${pattern}\`: ${(e as Error).message}`);
  }
}

/** Python's re.sub replacement template applied to one match. */
export function expandReplacement(template: string, m: RegExpExecArray | string[], groups?: Record<string, string | undefined>): string {
  return template.replace(/\\(?:g<(\w+)>|(\d{1,2})|(.))/g, (_all, g: string | undefined, num: string | undefined, ch: string | undefined) => {
    if (g !== undefined) return (/^\d+$/.test(g) ? m[Number(g)] : groups?.[g]) ?? '';
    if (num !== undefined) return m[Number(num)] ?? '';
    const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', f: '\f', v: '\v', a: '\x07', b: '\b' };
    return escapes[ch!] ?? `\\${ch}`;
  });
}
