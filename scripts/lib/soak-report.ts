// What the fault soak prints (scripts/soak.ts): a line per round as it ends, and the figures at the end as
// Markdown. Pure.
import type { FaultEffect, Judgement, RoundFacts } from './soak-oracle.js';
import { entryText, FAULT_KINDS, type FaultPhase, FAULTS, faultText, type RoundPlan } from './soak-plan.js';

/** A judged round, or one the soak itself could not run (a server that did not start): not judged. */
export type RoundRecord =
  { plan: RoundPlan; facts: RoundFacts; judgement: Judgement } | { plan: RoundPlan; harnessError: string };

/** The columns of the figures: every phase a fault can wait for (test/unit/soak.test.ts holds it to FAULTS). */
export const PHASES: readonly FaultPhase[] = [
  'set-up',
  'cache-build',
  'reset',
  'attempt',
  'minimize',
  'cleanup',
];

/** `round 7 | cli | v0.9.0 rootless | gha | p2 | kill-mirror@attempt 3 | hit | error | exit 1 | OK`. */
export function roundLine(record: RoundRecord): string {
  const { plan } = record;
  const head = [
    `round ${plan.round}`,
    entryText(plan),
    `${plan.release} ${plan.variant}`,
    plan.backend,
    `p${plan.parallel}`,
    faultText(plan.fault),
  ];
  if ('harnessError' in record) return [...head, `NOT RUN: ${record.harnessError}`].join(' | ');
  const { facts, judgement } = record;
  const fired = facts.fault.fired ? `fired (${judgement.effect})` : 'not fired';
  const exit = facts.main.signal ? `main ${facts.main.signal}` : `exit ${facts.main.exitCode}`;
  const marks = [
    ...judgement.wrong.map((w) => `WRONG: ${w}`),
    ...judgement.problems.map((p) => `PROBLEM: ${p}`),
    ...(judgement.leftovers.length > 0
      ? [`LEFTOVERS${judgement.leftoversExpected ? ' (SIGKILLed)' : ''}: ${judgement.leftovers.join(', ')}`]
      : []),
  ];
  return [...head, fired, `verdict ${facts.outputs.verdict ?? '-'}`, exit, marks.join('; ') || 'OK'].join(
    ' | ',
  );
}

type Judged = Extract<RoundRecord, { judgement: Judgement }>;

/** The figures: rounds, faults planned and fired by kind and phase, the goals, the command that ran. */
export function summaryMarkdown(records: readonly RoundRecord[], command: string): string {
  const judged = records.filter((r): r is Judged => 'judgement' in r);
  const count = (test: (r: Judged) => boolean) => judged.filter(test).length;
  const leftOver = (expected: boolean) =>
    count((r) => r.judgement.leftovers.length > 0 && r.judgement.leftoversExpected === expected);
  const effects: FaultEffect[] = ['none', 'untouched', 'hit', 'raced', 'signal', 'post'];
  const rows = [
    ['rounds', `${records.length} (${judged.length} judged, ${records.length - judged.length} not run)`],
    [
      'rounds by entry',
      (['action', 'cli'] as const)
        .map((entry) => `${entry} ${records.filter((r) => entryText(r.plan) === entry).length}`)
        .join(', '),
    ],
    ['control rounds (no fault)', String(count((r) => r.plan.fault.kind === 'none'))],
    [
      'faults fired / planned',
      `${count((r) => r.facts.fault.fired)} / ${count((r) => r.plan.fault.kind !== 'none')}`,
    ],
    ['what the fault did', effects.map((e) => `${e} ${count((r) => r.judgement.effect === e)}`).join(', ')],
    ['**wrong verdicts (goal 0)**', String(count((r) => r.judgement.wrong.length > 0))],
    [
      'other problems: a hang, a failed post step (goal 0)',
      String(count((r) => r.judgement.problems.length > 0)),
    ],
    ['**rounds with leftovers (goal 0)**', String(leftOver(false))],
    ['rounds with leftovers after the soak SIGKILLed the post step or the CLI', String(leftOver(true))],
    ['command', `\`${command}\``],
  ];
  return [
    '| measure | value |',
    '| --- | --- |',
    ...rows.map(([a, b]) => `| ${a} | ${b} |`),
    '',
    faultTable(judged),
    '',
    ...listed(
      'Wrong verdicts',
      judged.filter((r) => r.judgement.wrong.length > 0),
      (r) => r.judgement.wrong,
    ),
    ...listed(
      'Other problems',
      judged.filter((r) => r.judgement.problems.length > 0),
      (r) => r.judgement.problems,
    ),
    ...listed(
      'Leftovers',
      judged.filter((r) => r.judgement.leftovers.length > 0),
      (r) => r.judgement.leftovers,
    ),
  ].join('\n');
}

/** Faults by kind (rows) and phase (columns): planned/fired in each cell. */
function faultTable(judged: readonly Judged[]): string {
  const cell = (kind: string, phase: FaultPhase) => {
    const planned = judged.filter((r) => r.plan.fault.kind === kind && r.plan.fault.at?.phase === phase);
    return `${planned.length}/${planned.filter((r) => r.facts.fault.fired).length}`;
  };
  const kinds = FAULT_KINDS.filter((k) => k !== 'none');
  return [
    `| fault (planned/fired) | ${PHASES.join(' | ')} |`,
    `| --- | ${PHASES.map(() => '---').join(' | ')} |`,
    ...kinds.map(
      (k) => `| ${k} | ${PHASES.map((p) => (FAULTS[k].phases.includes(p) ? cell(k, p) : '')).join(' | ')} |`,
    ),
  ].join('\n');
}

function listed(title: string, rounds: readonly Judged[], reasons: (r: Judged) => string[]): string[] {
  if (rounds.length === 0) return [];
  return [
    `${title}:`,
    '',
    ...rounds.map((r) => `- round ${r.plan.round} (${faultText(r.plan.fault)}): ${reasons(r).join('; ')}`),
    '',
  ];
}

/** The schedule of a dry run: planned faults by kind and phase, without facts. */
export function scheduleTable(plans: readonly RoundPlan[]): string {
  const kinds = FAULT_KINDS.filter((k) => k !== 'none');
  const cell = (kind: string, phase: FaultPhase) =>
    String(plans.filter((p) => p.fault.kind === kind && p.fault.at?.phase === phase).length);
  return [
    `| fault (planned) | ${PHASES.join(' | ')} |`,
    `| --- | ${PHASES.map(() => '---').join(' | ')} |`,
    ...kinds.map(
      (k) => `| ${k} | ${PHASES.map((p) => (FAULTS[k].phases.includes(p) ? cell(k, p) : '')).join(' | ')} |`,
    ),
    '',
    `control rounds (no fault): ${plans.filter((p) => p.fault.kind === 'none').length} of ${plans.length}`,
  ].join('\n');
}
