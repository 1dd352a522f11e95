/**
 * The live parse of an apply's stdout reads each line about once: after every parse the
 * stream keeps only what may still change an event, not the whole output so far. Parsing
 * all of it again on each chunk made an apply's garbage grow with the square of its
 * output, and with 500 hosts streaming at once that garbage outlived the young generation
 * (docs/benchmark.md, "Memory at 500 hosts"). The final verdict still parses the whole
 * stdout once.
 */

/**
 * What of `text` (output parsed just now) the next parse still needs: the unfinished last
 * line, from the last complete line on when that is a step's or handler's `failed` line
 * (its encoded output, the next line, is not complete yet).
 */
export function liveTail(text: string, nonce: string): string {
  const end = text.lastIndexOf('\n');
  if (end < 0) return text;
  const start = text.lastIndexOf('\n', end - 1) + 1;
  const marker = `@@${nonce} `;
  const last = text.slice(start, end);
  if (last.startsWith(`${marker}failed `) || last.startsWith(`${marker}hfailed `)) return text.slice(start);
  return text.slice(end + 1);
}
