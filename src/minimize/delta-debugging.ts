import type { Judgement } from '../model/minimization.js';
/**
 * Delta debugging (Zeller and Hildebrandt's ddmin) over a list of items: the smallest sub-list the judge
 * still calls "reproduces". Pure: the judge is the only way it learns anything, so it is tested with
 * scripted judges, and the engine gives it one that runs BuildKit.
 */

export interface SearchResult<T> {
  /** The smallest sub-list seen to reproduce, in the original order. */
  smallest: T[];
  /** True when every single removal from `smallest` was tried and none reproduced (1-minimal). */
  proven: boolean;
  /** Candidates judged (a repeated candidate is answered from memory and not counted). */
  judged: number;
  invalid: number;
}

export interface SearchOptions<T> {
  /** The items, all of which together reproduce. */
  items: readonly T[];
  judge(subset: readonly T[]): Promise<Judgement>;
  /** Asked before each candidate: true ends the search with what it has, not proven minimal. */
  outOfTime(): boolean;
}

class OutOfTime extends Error {}

export async function ddmin<T>(options: SearchOptions<T>): Promise<SearchResult<T>> {
  const memory = new Map<string, Judgement>();
  let judged = 0;
  let invalid = 0;
  const reproduces = async (indices: readonly number[]): Promise<boolean> => {
    const key = indices.join(',');
    let judgement = memory.get(key);
    if (judgement === undefined) {
      if (options.outOfTime()) throw new OutOfTime();
      judgement = await options.judge(indices.map((i) => options.items[i] as T));
      memory.set(key, judgement);
      judged += 1;
      if (judgement === 'invalid') invalid += 1;
    }
    return judgement === 'reproduces';
  };

  let current = options.items.map((_, i) => i);
  let proven = false;
  try {
    let granularity = 2;
    while (current.length > 0) {
      const chunks = split(current, Math.min(granularity, current.length));
      const subset = chunks.length > 1 ? await firstReproducing(chunks, reproduces) : undefined;
      if (subset) {
        current = subset;
        granularity = 2;
        continue;
      }
      // With two chunks the complements are the chunks themselves, already judged.
      const complements = chunks.length === 2 ? [] : chunks.map((chunk) => without(current, chunk));
      const complement = await firstReproducing(complements, reproduces);
      if (complement) {
        current = complement;
        granularity = Math.max(granularity - 1, 2);
        continue;
      }
      if (chunks.length >= current.length) break;
      granularity = Math.min(granularity * 2, current.length);
    }
    // Every single removal was judged (or nothing is left): 1-minimal.
    proven = true;
  } catch (error) {
    if (!(error instanceof OutOfTime)) throw error;
  }
  return { smallest: current.map((i) => options.items[i] as T), proven, judged, invalid };
}

async function firstReproducing(
  candidates: readonly number[][],
  reproduces: (indices: readonly number[]) => Promise<boolean>,
): Promise<number[] | undefined> {
  for (const candidate of candidates) if (await reproduces(candidate)) return candidate;
  return undefined;
}

/** n chunks of nearly equal size, in order. */
function split(indices: readonly number[], n: number): number[][] {
  const chunks: number[][] = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = start + Math.floor((indices.length - start) / (n - i));
    chunks.push(indices.slice(start, end));
    start = end;
  }
  return chunks;
}

function without(indices: readonly number[], removed: readonly number[]): number[] {
  const gone = new Set(removed);
  return indices.filter((i) => !gone.has(i));
}
