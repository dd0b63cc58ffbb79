// Judges one round of the fault soak from what was seen from outside the product: the plan, when the fault
// fired against the main step's phase and result lines, how each step ended, its outputs, what was left. The
// product's own account of the fault (its error text, its report) is never asked. Pure: no Docker here.
import { verdictWithoutLoss } from '../../test/support/ladder.js';
import { FAULTS, losesLayers, type RoundPlan } from './soak-plan.js';

/** One line of the main step's log (the action's stdout, the CLI's stderr) and when the soak read it (ms). */
export interface LineEvent {
  atMs: number;
  line: string;
}

/** When the fault acted, against the attempts' lines: what had started and ended, what started after. */
export interface FaultTiming {
  /** Attempts whose phase line arrived before the fault's action began. */
  startedBefore: number[];
  /** Attempts whose phase line arrived before the action was done (those above, and any during it). */
  startedBy: number[];
  /** Attempts whose result line arrived before the action began. */
  endedBefore: number[];
  /** Phase lines (`attempt 5`, `reset lane 1`) that arrived after the action was done. */
  phasesAfter: string[];
  /** Attempts whose result line, at any time in the run, judged an image (intact or a difference). */
  judged: number[];
}

export type FaultFacts =
  { fired: false; why: string } | { fired: true; targets: string[]; timing: FaultTiming };

export interface StepFacts {
  exitCode: number;
  signal: string | null;
  /** The soak killed the step at its own deadline: it did not end by itself. */
  timedOut: boolean;
}

export interface RoundFacts {
  plan: RoundPlan;
  fault: FaultFacts;
  main: StepFacts;
  /**
   * The action's outputs; in a CLI round, its report's (verdict, failed-attempt, attempts, minimization) and
   * `said`, the verdict of the line it printed.
   */
  outputs: Partial<
    Record<'verdict' | 'reproduced' | 'failed-attempt' | 'attempts' | 'minimization' | 'said', string>
  >;
  /** Absent in a CLI round: the CLI has no post step, it removes what it made itself. */
  post?: StepFacts & { killedBySoak: boolean };
  /** Containers, volumes, networks, mirror tags, tool-cache locks or partial entries, remote keys. */
  leftovers: string[];
}

/**
 * What the fault did to the run: nothing (none planned, or it never fired); `untouched` (every attempt had
 * its result before it acted); `hit` (a phase started after it acted, or nothing was in flight but the
 * phase it waited for); `raced` (only attempts already running, none after: they may have had all they
 * needed before it); `signal` (the main step was signalled); `post` (the post step was).
 */
export type FaultEffect = 'none' | 'untouched' | 'hit' | 'raced' | 'signal' | 'post';

export interface Judgement {
  effect: FaultEffect;
  /** The verdicts a correct run gives here, in words. */
  expected: string;
  /** A verdict, exit code or output that is not what the facts allow: the soak's goal is none. */
  wrong: string[];
  /** Not a wrong verdict, but not right either: a step that hung, a post step that failed. */
  problems: string[];
  leftovers: string[];
  /** The soak SIGKILLed the post step, or the CLI: nothing could have removed what the run made. */
  leftoversExpected: boolean;
}

const PHASE = /^::debug::phase (\S+)(?: (.*))? starts$/;
const RESULT = /^attempt (\d+)(?: \[lane \d+\])?(?: \(fresh buildkitd state\))?: /;

/** `attempt 3`, `reset lane 1`, `cache-build`: a phase line's phase and detail; undefined for other lines. */
export function phaseOfLine(line: string): string | undefined {
  const match = PHASE.exec(line.trimEnd());
  return match ? [match[1], match[2]].filter((p) => p !== undefined).join(' ') : undefined;
}

/** The run id in the line each run starts with (runLabelLine): the action's on stdout, the CLI's on stderr. */
export const runIdIn = (log: string): string | undefined => /^run ([0-9a-f]{8}): /m.exec(log)?.[1];

/** The attempt whose result (describeRecord's line) this is. */
export function attemptEnded(line: string): number | undefined {
  const match = RESULT.exec(line);
  return match ? Number(match[1]) : undefined;
}

/** The attempt whose result line judged an image: intact, or a difference class (not an error). */
export function attemptJudged(line: string): number | undefined {
  const match = RESULT.exec(line);
  const judged = match && /^(intact, |[A-Z][A-Z-]* — )/.test(line.slice(match[0].length));
  return judged ? Number(match[1]) : undefined;
}

function attemptStarted(line: string): number | undefined {
  const match = /^attempt (\d+)$/.exec(phaseOfLine(line) ?? '');
  return match ? Number(match[1]) : undefined;
}

/** The timing facts of a fault that acted from `beganMs` to `doneMs`, from the main step's lines. */
export function faultTiming(events: readonly LineEvent[], beganMs: number, doneMs: number): FaultTiming {
  const numbers = (pick: (line: string) => number | undefined, before: number) =>
    events.filter((e) => e.atMs < before).flatMap((e) => pick(e.line) ?? []);
  return {
    startedBefore: numbers(attemptStarted, beganMs),
    startedBy: numbers(attemptStarted, doneMs),
    endedBefore: numbers(attemptEnded, beganMs),
    phasesAfter: events.filter((e) => e.atMs > doneMs).flatMap((e) => phaseOfLine(e.line) ?? []),
    judged: numbers(attemptJudged, Infinity),
  };
}

export function faultEffect({ plan, fault }: Pick<RoundFacts, 'plan' | 'fault'>): FaultEffect {
  if (plan.fault.kind === 'none' || !fault.fired) return 'none';
  const { reaches } = FAULTS[plan.fault.kind];
  if (reaches === 'main-process') return 'signal';
  if (reaches === 'post-process') return 'post';
  const t = fault.timing;
  if (new Set(t.endedBefore).size >= plan.retries) return 'untouched';
  // A killed or paused daemon judges no image after it: every attempt judged means none ran on that daemon
  // after the fault (with two lanes the fault may land on the other lane's daemon, idle or done).
  if (FAULTS[plan.fault.kind].silencesDaemon && new Set(t.judged).size >= plan.retries) return 'untouched';
  if (t.phasesAfter.length > 0) return 'hit';
  return t.startedBy.some((a) => !t.endedBefore.includes(a)) ? 'raced' : 'hit';
}

/** The first attempt the fault could have changed: a lost layer before it is the release's own. */
export function hitAttempt(plan: RoundPlan, timing: FaultTiming): number {
  const at = plan.fault.at;
  if (at?.phase === 'attempt') return at.attempt;
  if (at?.phase === 'reset') return Math.max(0, ...timing.startedBefore) + 1;
  // Minimization starts once the attempts are over: every one of them came before the fault.
  if (at?.phase === 'minimize') return plan.retries + 1;
  return 1;
}

interface Expectation {
  words: string;
  accepts(verdict: string | undefined, failedAttempt: number): boolean;
}

function untouchedExpectation(release: string): Expectation {
  const base = verdictWithoutLoss(release);
  return losesLayers(release)
    ? { words: `${base} or reproduced`, accepts: (v) => v === base || v === 'reproduced' }
    : { words: base, accepts: (v) => v === base };
}

/**
 * After a fault, a release that loses layers may still show a real loss: one before the first attempt the
 * fault could change, or, after a fault that silences a daemon, one an attempt judged (a silenced daemon
 * judges nothing: the loss came from a daemon it did not touch, such as the other lane's).
 */
function hitExpectation(release: string, before: number, judged?: readonly number[]): Expectation {
  if (!losesLayers(release)) return { words: 'error', accepts: (v) => v === 'error' };
  const realLoss = (failed: number) => failed < before || (judged?.includes(failed) ?? false);
  return {
    words: `error, or reproduced before attempt ${before}${judged ? ' or at an attempt that judged an image' : ''}`,
    accepts: (v, failed) => v === 'error' || (v === 'reproduced' && realLoss(failed)),
  };
}

function expectationFor(facts: RoundFacts, effect: FaultEffect): Expectation | undefined {
  const { plan, fault } = facts;
  if (effect === 'signal') return undefined;
  const untouched = untouchedExpectation(plan.release);
  if (effect !== 'hit' && effect !== 'raced') return untouched;
  const judged = fault.fired && FAULTS[plan.fault.kind].silencesDaemon ? fault.timing.judged : undefined;
  const hit = hitExpectation(plan.release, fault.fired ? hitAttempt(plan, fault.timing) : 1, judged);
  if (effect === 'hit' && !FAULTS[plan.fault.kind].outlivable) return hit;
  const why = effect === 'hit' ? 'the run having made room for itself' : 'the fault having come too late';
  return {
    words: `${hit.words}; or, ${why}, ${untouched.words}`,
    accepts: (v, failed) => hit.accepts(v, failed) || untouched.accepts(v, failed),
  };
}

/**
 * What the exit code must be for a verdict with the default fail-on (src/main.ts, src/cli.ts). The CLI exits
 * 2 for a minimization that failed, whatever the verdict.
 */
function exitAgrees({ plan, outputs }: RoundFacts, verdict: string, exitCode: number): boolean | undefined {
  if (verdict === 'error') return exitCode !== 0;
  if (plan.entry === 'cli' && outputs.minimization === 'error') return exitCode === 2;
  if (verdict === 'clean' || verdict === 'not-run') return exitCode === 0;
  // fail-on's default names every class: any image that is not the reference fails the step.
  if (['reproduced', 'content-differs', 'config-differs'].includes(verdict)) return exitCode === 1;
  return undefined;
}

const signalSent = ({ plan, fault }: RoundFacts) =>
  fault.fired && FAULTS[plan.fault.kind].reaches === 'main-process'
    ? FAULTS[plan.fault.kind].signal
    : undefined;

/** (a), (b): the verdict against what the fault allows. */
export function verdictRule(facts: RoundFacts, effect: FaultEffect): string[] {
  const expectation = expectationFor(facts, effect);
  const { verdict } = facts.outputs;
  if (!expectation || verdict === undefined) return [];
  const failed = Number(facts.outputs['failed-attempt'] || Infinity);
  if (expectation.accepts(verdict, failed)) return [];
  const how = effect === 'none' || effect === 'untouched' || effect === 'post' ? 'untouched' : effect;
  const at = verdict === 'reproduced' ? ` at attempt ${failed}` : '';
  return [
    `verdict ${verdict}${at} where the run was ${how} (${faultWords(facts)}): expected ${expectation.words}`,
  ];
}

/** (c): the exit code against the verdict; a main step that ended by itself must say a verdict. */
export function exitRule(facts: RoundFacts): string[] {
  const { main, outputs } = facts;
  if (main.timedOut || main.signal) return [];
  const sent = signalSent(facts);
  if (sent) {
    if (main.exitCode === 0) return [`the main step exited 0 after ${sent}: a cancelled step passed`];
    // The CLI removes its run, then exits as the shell's convention says: 128 + the signal's number.
    const conventional = sent === 'SIGINT' ? 130 : 143;
    return facts.plan.entry === 'cli' && main.exitCode !== conventional
      ? [`the CLI exited ${main.exitCode} after ${sent}, not ${conventional}`]
      : [];
  }
  const { verdict } = outputs;
  if (verdict === undefined)
    return [`the main step exited ${main.exitCode} by itself without a verdict output`];
  const agrees = exitAgrees(facts, verdict, main.exitCode);
  if (agrees === undefined) return [`verdict ${verdict} is none the action gives`];
  return agrees ? [] : [`verdict ${verdict} with exit code ${main.exitCode}`];
}

/** (d): a main step the soak signalled has no verdict to give. */
export function signalRule(facts: RoundFacts): string[] {
  const sent = signalSent(facts);
  const { verdict } = facts.outputs;
  return sent && verdict !== undefined
    ? [`the main step was sent ${sent}, yet it left verdict ${verdict}`]
    : [];
}

/**
 * The outputs agree with each other: `clean` and `config-differs` only after every planned attempt; the CLI's
 * line says its report's verdict (a CLI that could not write its report still says its verdict).
 */
export function outputsRule({ plan, outputs }: RoundFacts): string[] {
  const { verdict } = outputs;
  if (verdict === undefined) return [];
  const wrong: string[] = [];
  const attempts = Number(outputs.attempts ?? NaN);
  if (plan.entry === 'cli' && outputs.said !== verdict)
    wrong.push(`the CLI's report says ${verdict}, its verdict line ${outputs.said ?? 'nothing'}`);
  if (plan.entry !== 'cli' && outputs.reproduced !== String(verdict === 'reproduced'))
    wrong.push(`verdict ${verdict} with reproduced=${outputs.reproduced}`);
  if ((verdict === 'reproduced') !== ((outputs['failed-attempt'] ?? '') !== ''))
    wrong.push(`verdict ${verdict} with failed-attempt "${outputs['failed-attempt'] ?? ''}"`);
  // Without its report, the CLI's line does not always say how many attempts ran.
  const counted = plan.entry !== 'cli' || outputs.attempts !== undefined;
  if (counted && !(attempts <= plan.retries))
    wrong.push(`attempts=${outputs.attempts} of ${plan.retries} planned`);
  if (counted && (verdict === 'clean' || verdict === 'config-differs') && attempts !== plan.retries)
    wrong.push(`verdict ${verdict} after ${outputs.attempts} of ${plan.retries} planned attempts`);
  return wrong;
}

function problemsOf(facts: RoundFacts): string[] {
  const { main, post } = facts;
  const problems: string[] = [];
  if (main.timedOut) problems.push("the main step did not end by the soak's deadline");
  if (post?.timedOut) problems.push("the post step did not end by the soak's deadline");
  if (main.signal && !main.timedOut && main.signal !== signalSent(facts))
    problems.push(`the main step died of ${main.signal}, which the soak did not send`);
  // A post step sent SIGINT or SIGTERM finishes its removal and ends by itself: only SIGKILL excuses it.
  if (post && post.exitCode !== 0 && !killedBySoak(facts) && !post.timedOut)
    problems.push(`the post step exited ${post.exitCode}${post.signal ? ` (${post.signal})` : ''}`);
  return problems;
}

/**
 * The soak SIGKILLed the step that removes what the run made: the post step, or the CLI (which has none),
 * by its fault or at its deadline. A SIGINT or SIGTERM lets either finish its removal: only a SIGKILL
 * excuses what is left.
 */
function killedBySoak(facts: RoundFacts): boolean {
  // A CLI the soak killed at its deadline had no post step after it either (the hang is a problem of its own).
  if (!facts.post && facts.main.timedOut) return true;
  if (FAULTS[facts.plan.fault.kind].signal !== 'SIGKILL') return false;
  return facts.post ? facts.post.killedBySoak : signalSent(facts) === 'SIGKILL';
}

function faultWords({ plan, fault }: RoundFacts): string {
  if (plan.fault.kind === 'none') return 'no fault';
  if (!fault.fired) return `${plan.fault.kind} did not fire: ${fault.why}`;
  return `${plan.fault.kind} fired on ${fault.targets.join(', ') || 'its target'}`;
}

export function judgeRound(facts: RoundFacts): Judgement {
  const effect = faultEffect(facts);
  return {
    effect,
    expected: expectationFor(facts, effect)?.words ?? 'no verdict output',
    wrong: [...verdictRule(facts, effect), ...exitRule(facts), ...signalRule(facts), ...outputsRule(facts)],
    problems: problemsOf(facts),
    leftovers: facts.leftovers,
    leftoversExpected: killedBySoak(facts),
  };
}

/**
 * What a runner's tool cache holds that a finished run must not leave: a lock (proper-lockfile's `*.lock`
 * folder) or an entry `tool/version/arch` without the `.complete` marker @actions/tool-cache writes last.
 */
export function toolCacheLeftovers(entries: readonly { path: string; dir: boolean }[]): string[] {
  const paths = new Set(entries.map((e) => e.path));
  return entries.flatMap(({ path, dir }) => {
    if (path.split('/').some((part) => part.endsWith('.lock'))) return [`tool-cache lock ${path}`];
    const partial = dir && path.split('/').length === 3 && !paths.has(`${path}.complete`);
    return partial ? [`tool-cache partial ${path}`] : [];
  });
}
