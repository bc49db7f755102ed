/**
 * "Did you mean": the known name a misspelt one was meant to be, for field
 * names and for the values of every enum (strategies, methods, priorities,
 * conflict policies, `detect`, `ids`). It ships in the worker with the
 * validator, so it stays a loop, not a library.
 */

/**
 * Edit distance where swapping two neighbours is one edit, not two
 * ("hihg" is one slip from "high"): optimal string alignment, one row of
 * the table per letter of `a`, the two rows before it kept for the swap.
 */
function distance(a: string, b: string): number {
  let before: number[] = [];
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) next[j] = Math.min(next[j]!, before[j - 2]! + 1);
    }
    [before, row] = [row, next];
  }
  return row[b.length]!;
}

/**
 * The known name nearest `name`, ignoring case, when it is close enough to
 * be what was meant: one slip for a short name, up to a third of its letters
 * for a long one. Further than that a guess misleads ("FETCH" is two letters
 * from "PATCH" but meant "GET"), so there is none.
 */
export function nearest<T>(name: string, known: readonly T[]): T | undefined {
  let best: T | undefined;
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1;
  for (const candidate of known) {
    const d = distance(name.toLowerCase(), String(candidate).toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}
