/**
 * Injected randomness: the core never calls Math.random, so a seed reproduces every tie-break.
 */
export interface Random {
  /** A uniformly distributed integer in [0, n). */
  intn(n: number): number;
}

/** SplitMix32-style generator (mulberry32): small, fast, seedable, good enough for tie-breaking. */
export class SeededRandom implements Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  intn(n: number): number {
    return Math.floor(this.next() * n);
  }
}
