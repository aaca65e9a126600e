/**
 * Edit distance, for "did you mean …?" hints: a misspelled `APP_*` variable
 * is named with the closest known one rather than ignored.
 */

/**
 * The Levenshtein distance between `a` and `b`: the fewest single-character
 * insertions, deletions and substitutions that turn one into the other.
 * Two rows of the dynamic-programming table, O(|a|·|b|) time.
 */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The candidate closest to `word`, or null when none is within
 * `maxDistance` edits (ties go to the first candidate listed).
 */
export function closest(word: string, candidates: readonly string[], maxDistance: number): string | null {
  let best: string | null = null;
  let bestDistance = maxDistance + 1;
  for (const candidate of candidates) {
    const distance = levenshtein(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
