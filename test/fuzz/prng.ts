// A small seeded generator (mulberry32): the same seed gives the same mutants on every machine,
// so a failure found by `make fuzz` is reproduced by its seed and index alone.
export class Prng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** 0 ≤ n < max */
  int(max: number): number {
    return max <= 0 ? 0 : this.next() % max;
  }

  chance(p: number): boolean {
    return this.next() / 2 ** 32 < p;
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }

  /** A generator for sub-task `i`, independent of how many numbers this one has drawn. */
  fork(i: number): Prng {
    return new Prng(Math.imul(this.s ^ 0x9e3779b9, i + 1) ^ i);
  }
}
