// The order packages are listed (and unpacked) in: each after the packages it depends on, ties by
// name, so the same request always gives the same list. Debian has dependency cycles (libc6 and
// libgcc-s1 depend on each other): the members of a cycle go together, by name.

/**
 * `deps` maps each name to the names it depends on (names outside the map are ignored). The
 * strongly connected components (Tarjan's algorithm, with an explicit stack) are ordered with
 * Kahn's algorithm, the ready component with the smallest name first; inside one, by name.
 * O((names + edges) · log names).
 */
export function installOrder(deps: Map<string, string[]>): string[] {
  const names = [...deps.keys()].sort();
  const id = new Map(names.map((n, i) => [n, i]));
  const out = names.map((n) => [...new Set(deps.get(n)!)].map((d) => id.get(d)).filter((d): d is number => d !== undefined));
  const comp = components(out);
  const count = Math.max(-1, ...comp) + 1;
  // Each component: its members (ascending, as names are), what it waits for, who waits for it.
  const members: number[][] = Array.from({ length: count }, () => []);
  names.forEach((_, i) => members[comp[i]].push(i));
  const unmet = new Array<number>(count).fill(0);
  const waiting: number[][] = Array.from({ length: count }, () => []);
  for (let v = 0; v < out.length; v++) {
    for (const d of new Set(out[v].map((w) => comp[w]))) {
      if (d === comp[v]) continue;
      unmet[comp[v]]++;
      waiting[d].push(comp[v]);
    }
  }
  // A component's key is its smallest member's index, which sorts as the names do.
  const ready = new MinHeap();
  for (let c = 0; c < count; c++) if (unmet[c] === 0) ready.push(members[c][0], c);
  const order: string[] = [];
  while (ready.size) {
    const c = ready.pop();
    for (const m of members[c]) order.push(names[m]);
    for (const w of waiting[c]) if (--unmet[w] === 0) ready.push(members[w][0], w);
  }
  return order;
}

/** Tarjan's strongly connected components without recursion: the component number of each vertex. */
function components(out: number[][]): number[] {
  const n = out.length;
  const index = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const onStack = new Array<boolean>(n).fill(false);
  const comp = new Array<number>(n).fill(-1);
  const stack: number[] = [];
  let next = 0;
  let count = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] >= 0) continue;
    const work: [number, number][] = [[root, 0]]; // vertex, next edge to look at
    index[root] = low[root] = next++;
    stack.push(root);
    onStack[root] = true;
    while (work.length) {
      const top = work[work.length - 1];
      const [v, e] = top;
      if (e < out[v].length) {
        top[1]++;
        const w = out[v][e];
        if (index[w] < 0) {
          index[w] = low[w] = next++;
          stack.push(w);
          onStack[w] = true;
          work.push([w, 0]);
        } else if (onStack[w]) low[v] = Math.min(low[v], index[w]);
        continue;
      }
      work.pop();
      if (work.length) {
        const u = work[work.length - 1][0];
        low[u] = Math.min(low[u], low[v]);
      }
      if (low[v] === index[v]) {
        for (let w = -1; w !== v;) {
          w = stack.pop()!;
          onStack[w] = false;
          comp[w] = count;
        }
        count++;
      }
    }
  }
  return comp;
}

/** A binary heap of (key, value), smallest key first. */
class MinHeap {
  private a: [number, number][] = [];
  get size(): number {
    return this.a.length;
  }
  push(key: number, value: number): void {
    const a = this.a;
    a.push([key, value]);
    for (let i = a.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (a[p][0] <= a[i][0]) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop(): number {
    const a = this.a;
    const top = a[0][1];
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l][0] < a[m][0]) m = l;
        if (r < a.length && a[r][0] < a[m][0]) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}
