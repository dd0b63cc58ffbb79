/** A seeded stream of choices: the same seed gives the same choices, on every machine and Node.js release. */
export interface Random {
  /** A number in [0, 1). */
  next(): number;
  /** An integer from `lo` to `hi`, both included. */
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** A shuffled copy. */
  shuffle<T>(items: readonly T[]): T[];
}

/** FNV-1a over the UTF-16 units of `text`: spreads nearby seeds ("1:2", "1:3") far apart. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** mulberry32: 32 bits of state, enough for a few hundred choices a case and fully reproducible. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stream from any string key. */
export function randomFrom(key: string): Random {
  const next = mulberry32(hashString(key));
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T => {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[int(0, items.length - 1)] as T;
  };
  const shuffle = <T>(items: readonly T[]): T[] => {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = int(0, i);
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  };
  return { next, int, pick, chance: (p) => next() < p, shuffle };
}

/**
 * The stream of one case, from (seed, case number) alone, so that a case is reproduced without generating
 * the ones before it. `part` gives a case independent streams (its base, its changes).
 */
export function caseRandom(seed: number, caseNumber: number, part = 'base'): Random {
  return randomFrom(`${seed}:${caseNumber}:${part}`);
}
