/**
 * "Did you mean …?" for a mistyped command name: the closest known name within two edits
 * (Levenshtein distance), or one the typed text is a prefix of. Hand-written: 20 lines, where a
 * library (e.g. `fastest-levenshtein`) would add a dependency for one call per usage error.
 */

/** Levenshtein distance between `a` and `b`. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/**
 * The known name `typed` most likely meant, if any.
 * @param typed - what the user typed.
 * @param known - the valid names.
 */
export function didYouMean(typed: string, known: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const d = distance(typed, name);
    if (d <= 2 && (best === undefined || d < best.d)) best = { name, d };
  }
  if (best) return best.name;
  return typed.length >= 3 ? known.find((name) => name.startsWith(typed)) : undefined;
}
