// The order packages are listed (and unpacked) in: each after the packages it depends on, ties by
// name, so the same request always gives the same list. Debian has dependency cycles (libc6 and
// libgcc-s1 depend on each other): a cycle is broken at its smallest name, as said below.

/**
 * `deps` maps each name to the names it depends on (names outside the map are ignored). Kahn's
 * algorithm, always taking the smallest ready name; when nothing is ready (a cycle), the smallest
 * name among those with the fewest unmet dependencies goes next. Quadratic in the worst case,
 * bounded by the resolver's set size.
 */
export function installOrder(deps: Map<string, string[]>): string[] {
  const unmet = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const [name, on] of deps) {
    const mine = [...new Set(on)].filter((d) => d !== name && deps.has(d));
    unmet.set(name, mine.length);
    for (const d of mine) {
      const list = dependents.get(d);
      if (list) list.push(name);
      else dependents.set(d, [name]);
    }
  }
  const order: string[] = [];
  const done = new Set<string>();
  while (order.length < deps.size) {
    let next: string | undefined;
    for (const [name, n] of unmet) {
      if (done.has(name)) continue;
      const best = next === undefined ? undefined : unmet.get(next)!;
      if (best === undefined || n < best || (n === best && name < next!)) next = name;
    }
    done.add(next!);
    unmet.delete(next!);
    order.push(next!);
    for (const d of dependents.get(next!) ?? []) if (unmet.has(d)) unmet.set(d, unmet.get(d)! - 1);
  }
  return order;
}
