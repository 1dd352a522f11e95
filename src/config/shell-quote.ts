/**
 * POSIX shell quoting: single quotes, embedded single quotes closed, escaped and reopened.
 * Safe for any string (newlines, `$`, backticks, spaces). Lives in config/ because both the
 * templates' `| quote` filter and the step generators in resources/ need it.
 */
export function shellQuote(word: string): string {
  if (word === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
