// Close names for an unknown one ("jqq" → jq): Levenshtein distance, computed only for names of a
// near length and cut off past the bound, so a universe of 100,000 names costs little.

/** Names longer than this are not compared (Debian package names are far shorter). */
const MAX_COMPARED = 100;

/** Up to `max` names within `maxDistance` edits of `name`, nearest first, ties by name. */
export function closeNames(name: string, names: Iterable<string>, max = 3, maxDistance = 2): string[] {
  if (name.length > MAX_COMPARED) return [];
  const found: { n: string; d: number }[] = [];
  for (const n of names) {
    if (n.length > MAX_COMPARED || Math.abs(n.length - name.length) > maxDistance) continue;
    const d = distance(name, n, maxDistance);
    if (d <= maxDistance) found.push({ n, d });
  }
  found.sort((a, b) => a.d - b.d || (a.n < b.n ? -1 : a.n > b.n ? 1 : 0));
  return found.slice(0, max).map((f) => f.n);
}

/** Edit distance, or more than `limit` as soon as every cell of a row is past it. */
function distance(a: string, b: string, limit: number): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < best) best = v;
    }
    if (best > limit) return limit + 1;
    prev = cur;
  }
  return prev[b.length];
}
