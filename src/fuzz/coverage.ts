import { CHANGE_KINDS, CONSTRUCTS, type ChangeKind, type Construct, type FuzzCase } from './case-model.js';

export interface Coverage {
  /** Of 100 cases, how many use each construct. */
  constructs: Record<Construct, number>;
  /** Of 100 cases, how many have a changed version with each kind of change. */
  changes: Record<ChangeKind, number>;
}

/** What a case used, as a generated case or its result tells it. */
export interface CaseShape {
  constructs: readonly Construct[];
  changes: readonly ChangeKind[];
}

/** Per 100 cases (issue 21, item 5), to one decimal; all zero for no cases. */
export function coverageOf(cases: readonly CaseShape[]): Coverage {
  const per100 = (count: number) => (cases.length === 0 ? 0 : Math.round((count * 1000) / cases.length) / 10);
  const count = <K extends string>(keys: readonly K[], used: (c: CaseShape) => readonly K[]) =>
    Object.fromEntries(
      keys.map((key) => [key, per100(cases.filter((c) => used(c).includes(key)).length)]),
    ) as Record<K, number>;
  return {
    constructs: count(CONSTRUCTS, (c) => c.constructs),
    changes: count(CHANGE_KINDS, (c) => c.changes),
  };
}

/** The coverage of generated cases. */
export function coverage(cases: readonly FuzzCase[]): Coverage {
  return coverageOf(
    cases.map((c) => ({
      constructs: c.constructs,
      changes: (c.changed?.changes ?? []).map((ch) => ch.kind),
    })),
  );
}
