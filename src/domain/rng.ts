/**
 * A small seeded generator (mulberry32). Rules take an `Rng` instead of calling `Math.random()`,
 * so a test or a replay that fixes the seed gets the same run.
 */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** The generator's position, to save it and resume the same sequence later. */
  readonly state: number;
}

export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  return {
    next() {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
    get state() {
      return a;
    },
  };
}

/** An integer in [min, max]. */
export const randomInt = (rng: Rng, min: number, max: number): number => min + Math.floor(rng.next() * (max - min + 1));
