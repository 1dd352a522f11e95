/**
 * Shell words. Every value that reaches a remote shell goes through `quote`: POSIX single
 * quotes, with embedded single quotes closed, escaped and reopened. Works for any byte
 * string, including newlines, `$`, backticks and spaces.
 */
export function quote(word: string): string {
  if (word === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Quote every word and join with spaces. */
export function quoteAll(words: readonly string[]): string {
  return words.map(quote).join(' ');
}
