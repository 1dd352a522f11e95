/**
 * POSIX shell quoting for the `| quote` template filter. A copy of resources/sh.ts `quote`
 * because config/ must not import resources/ (layering); the two must stay identical.
 */
export function shellQuote(word: string): string {
  if (word === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
