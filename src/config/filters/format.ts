/**
 * Python's printf-style `%` operator, which Jinja's `format` filter is:
 * `"%s:%d" | format(host, port)`, `"%-10s|" | format(x)`, `"%05.1f" | format(n)`,
 * `"%(name)s" | format(name=x)`. Values print the Python way (`True`, `['a']`).
 */
import { FilterError } from './args.js';
import { pyNumber, pyRepr, pyStr } from './python-str.js';

const SPEC = /%(?:\((\w+)\))?([-+ 0#]*)(\*|\d+)?(?:\.(\*|\d+))?([diouxXeEfFgGcrsa%])/g;

function pad(s: string, width: number | undefined, flags: string, numeric: boolean): string {
  if (width === undefined || s.length >= width) return s;
  if (flags.includes('-')) return s.padEnd(width);
  if (numeric && flags.includes('0')) {
    const sign = /^[+\- ]/.test(s) ? s[0]! : '';
    return sign + s.slice(sign.length).padStart(width - sign.length, '0');
  }
  return s.padStart(width);
}

function toNumber(v: unknown, conv: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return Number(v);
  throw new FilterError(`%${conv} format: a number is required, not ${v === null ? 'None' : typeof v}`);
}

function signed(n: number, body: string, flags: string): string {
  if (n < 0 || Object.is(n, -0)) return `-${body}`;
  return (flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '') + body;
}

function convert(v: unknown, conv: string, flags: string, prec: number | undefined): string {
  switch (conv) {
    case 's':
      return prec === undefined ? pyStr(v) : pyStr(v).slice(0, prec);
    case 'r':
    case 'a':
      return pyRepr(v);
    case 'c':
      return typeof v === 'number' ? String.fromCodePoint(v) : String(v);
    case 'd':
    case 'i':
    case 'u': {
      const n = Math.trunc(toNumber(v, conv));
      return signed(n, String(Math.abs(n)), flags);
    }
    case 'x':
    case 'X':
    case 'o': {
      const n = Math.trunc(toNumber(v, conv));
      let body = Math.abs(n).toString(conv === 'o' ? 8 : 16);
      if (flags.includes('#')) body = (conv === 'o' ? '0o' : '0x') + body;
      return signed(n, conv === 'X' ? body.toUpperCase() : body, flags);
    }
    case 'f':
    case 'F':
      return signed(toNumber(v, conv), Math.abs(toNumber(v, conv)).toFixed(prec ?? 6), flags);
    case 'e':
    case 'E': {
      const n = toNumber(v, conv);
      const body = Math.abs(n).toExponential(prec ?? 6).replace(/e([+-])(\d)$/, 'e$10$2');
      return signed(n, conv === 'E' ? body.toUpperCase() : body, flags);
    }
    default: {
      // g/G: Python's general format, precision 6, trailing zeros dropped.
      const n = toNumber(v, conv);
      const p = prec === 0 ? 1 : (prec ?? 6);
      const exp = n === 0 ? 0 : Math.floor(Math.log10(Math.abs(n)));
      let body = exp < -4 || exp >= p ? Math.abs(n).toExponential(p - 1).replace(/\.?0+e/, 'e').replace(/e([+-])(\d)$/, 'e$10$2') : pyNumber(Number(Math.abs(n).toPrecision(p)));
      if (conv === 'G') body = body.toUpperCase();
      return signed(n, body, flags);
    }
  }
}

export function pyFormat(template: string, values: unknown[] | Record<string, unknown>): string {
  let next = 0;
  const take = (): unknown => {
    if (!Array.isArray(values)) return values;
    if (next >= values.length) throw new FilterError('not enough arguments for format string');
    return values[next++];
  };
  const out = template.replace(SPEC, (_m, key: string | undefined, flags: string, width: string | undefined, prec: string | undefined, conv: string) => {
    if (conv === '%') return '%';
    const w = width === '*' ? Number(take()) : width === undefined ? undefined : Number(width);
    const p = prec === '*' ? Number(take()) : prec === undefined ? undefined : Number(prec);
    let v: unknown;
    if (key !== undefined) {
      if (Array.isArray(values)) throw new FilterError('format requires a mapping for %(name)s');
      if (!(key in values)) throw new FilterError(`format: no value for \`${key}\``);
      v = values[key];
    } else v = take();
    return pad(convert(v, conv, flags, p), w, flags, !'srac'.includes(conv));
  });
  if (Array.isArray(values) && next < values.length) throw new FilterError('not all arguments converted during string formatting');
  return out;
}
