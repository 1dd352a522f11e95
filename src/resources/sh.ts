/**
 * Shell words. Every value that reaches a remote shell goes through `quote` (POSIX single
 * quotes; see config/shell-quote.ts, shared with the templates' `| quote` filter).
 */
import { shellQuote } from '../config/shell-quote.js';

export const quote = shellQuote;

/** Quote every word and join with spaces. */
export function quoteAll(words: readonly string[]): string {
  return words.map(quote).join(' ');
}
