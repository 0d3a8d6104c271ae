// "Did you mean …?": the nearest known name to a mistyped one, for unknown fields and kinds.

/** The candidate at most two edits from `name` (ignoring case and '_'), if any. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  const lower = name.toLowerCase().replaceAll('_', '');
  for (const k of candidates) {
    let d = k.toLowerCase() === lower ? 0 : editDistance(name, k);
    // A shared stem counts as near: `retry` for `retries`, `header` for `headers`.
    if (d > 2 && Math.abs(k.length - name.length) <= 3 && commonPrefix(k.toLowerCase(), lower) >= 4) d = 2;
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return i;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number;
      row[j] = Math.min(
        (row[j] as number) + 1,
        (row[j - 1] as number) + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return row[b.length] as number;
}
