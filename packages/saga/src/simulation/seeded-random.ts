/**
 * A small seeded pseudo-random generator (mulberry32 over a splitmix32-mixed seed): the only source
 * of randomness of the simulation, so one seed always replays the same run. Not for cryptography.
 *
 * @example
 * const rng = new SeededRandom(42);
 * rng.int(6);                 // 0..5
 * rng.chance(0.1);            // true about one time in ten
 * rng.pick(['a', 'b', 'c']);  // one of them
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = splitmix32(seed >>> 0);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Integer in [min, max], both included. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)];
  }

  /** Removes and returns one element of a non-empty list. */
  take<T>(items: T[]): T {
    if (items.length === 0) throw new Error('take from an empty list');
    return items.splice(this.int(items.length), 1)[0];
  }

  /**
   * A key chosen with probability proportional to its weight (weights ≤ 0 are never chosen).
   *
   * @example
   * rng.weighted([['deliver', 4], ['crash', 1]]);
   */
  weighted<K>(entries: readonly (readonly [K, number])[]): K {
    const total = entries.reduce((sum, [, w]) => sum + Math.max(0, w), 0);
    if (total <= 0) throw new Error('weighted pick with no positive weight');
    let r = this.next() * total;
    for (const [key, w] of entries) {
      if (w <= 0) continue;
      r -= w;
      if (r < 0) return key;
    }
    return entries.filter(([, w]) => w > 0).at(-1)![0];
  }
}

/** splitmix32 finaliser: spreads consecutive seeds (1, 2, 3…) over the whole state space. */
function splitmix32(seed: number): number {
  let z = (seed + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}
