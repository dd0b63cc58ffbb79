import { CHANGE_KINDS, CONSTRUCTS, type ChangeKind, type Construct, type FuzzCase } from './case-model.js';

export interface Coverage {
  /** Of 100 cases, how many use each construct. */
  constructs: Record<Construct, number>;
  /** Of 100 cases, how many have a changed version with each kind of change. */
  changes: Record<ChangeKind, number>;
}

/** Per 100 cases (issue 21, item 5), to one decimal; all zero for no cases. */
export function coverage(cases: readonly FuzzCase[]): Coverage {
  const per100 = (count: number) => (cases.length === 0 ? 0 : Math.round((count * 1000) / cases.length) / 10);
  const count = <K extends string>(keys: readonly K[], has: (c: FuzzCase, key: K) => boolean) =>
    Object.fromEntries(keys.map((key) => [key, per100(cases.filter((c) => has(c, key)).length)])) as Record<
      K,
      number
    >;
  return {
    constructs: count(CONSTRUCTS, (c, key) => c.constructs.includes(key)),
    changes: count(CHANGE_KINDS, (c, key) => c.changed?.changes.some((ch) => ch.kind === key) ?? false),
  };
}
