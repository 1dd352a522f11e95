/**
 * "Did you mean" hints for misspelt keys, names and --limit patterns. Damerau-Levenshtein
 * (optimal string alignment) catches the usual typos: one wrong, missing, extra or
 * swapped letter; a prefix match catches truncated names (`play` -> `playbooks`).
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
  for (let i = 0; i < rows; i++) d[i]![0] = i;
  for (let j = 0; j < cols; j++) d[0]![j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest candidate within distance 2 (or sharing a prefix), if any. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  let best: { name: string; dist: number } | undefined;
  for (const name of candidates) {
    const other = name.toLowerCase();
    let dist = editDistance(lower, other);
    if (dist > 2 && lower.length >= 3 && (other.startsWith(lower) || lower.startsWith(other))) dist = 2;
    if (dist <= 2 && (!best || dist < best.dist)) best = { name, dist };
  }
  return best?.name;
}

/** `did you mean \`X\`?` or undefined. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const match = closest(word, candidates);
  return match === undefined ? undefined : `did you mean \`${match}\`?`;
}
