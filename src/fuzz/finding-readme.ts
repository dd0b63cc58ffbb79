/*
 * The README.md of a finding's folder: a bug report to paste into a moby/buildkit issue. It is plain
 * Markdown for a person, not the job summary: the Dockerfile and the account go in fences, as written.
 */
import type { DifferenceClass } from '../model/classes.js';
import { CLASS_WORDS } from '../model/wording.js';
import type { FuzzCase } from './case-model.js';
import { classOf } from './findings.js';
import type { CaseResult } from './fuzz-result.js';

/** lost-layer-check's arguments (the program name left out), paths relative to the finding's folder. */
export interface ReproduceCommands {
  /** The check of the full inputs, as the fuzzer ran it. */
  check: string[];
  /** The same check of the minimized Dockerfile and context. */
  checkMinimized?: string[];
  /** The fuzzer again, for this one case: regenerates it from (seed, case) alone. */
  regenerate: string[];
}

export interface ReadmeInput {
  fuzzCase: FuzzCase;
  /** The case's result, its signature and findingDir set. */
  result: CaseResult;
  buildkitImage: string;
  commands: ReproduceCommands;
}

/** What each class means in a report's title, for a reader who does not know this tool. */
const CLASS_TITLES: Readonly<Record<DifferenceClass, string>> = {
  'lost-layer': 'image built from an imported cache lost a layer',
  'content-differs': 'image built from an imported cache has other content than a build without cache',
  'config-differs':
    'image built from an imported cache has another config or history than a build without cache',
};

/** An argument as a POSIX shell reads it back: bare when it is safe so, else in single quotes. */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A command line of lost-layer-check with these arguments. */
export function commandLine(args: readonly string[]): string {
  return ['lost-layer-check', ...args].map(shellQuote).join(' ');
}

/** A fence longer than any run of backticks in the text, so that nothing in it can close the block. */
function fenced(text: string, info = ''): string[] {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return [`${fence}${info}`, text.replace(/\n$/, ''), fence];
}

/** The instructions involved, from the signature (`class: words`). */
function involvedText(result: CaseResult): string {
  const signature = result.signature ?? '';
  const words = signature.slice(signature.indexOf(':') + 1).trim();
  return words === '' ? '' : ` (${words})`;
}

/** describeCase's line without its "case 17 (seed 42): ", which the line above already says. */
function caseShape(result: CaseResult): string {
  return result.description.replace(/^case \d+ \(seed \d+\): /, '');
}

function factsLines(input: ReadmeInput): string[] {
  const { result, fuzzCase } = input;
  const lines = [
    `- BuildKit: ${result.buildkitVersion} (image \`${input.buildkitImage}\`)`,
    `- Cache backend: \`${result.cacheType}\` (the cache build exports to it, every attempt imports from it)`,
    `- Found by \`lost-layer-check fuzz\`: seed ${result.seed}, case ${result.caseNumber} (${caseShape(result)})`,
    `- Class: ${classOf(result)} (${CLASS_WORDS[classOf(result)]}); ${result.attempts} attempts ran`,
  ];
  if (fuzzCase.changed) {
    lines.push(
      '- The cache was made from `cache/Dockerfile` and `cache/context/`; the attempts build `Dockerfile` and `context/`, changed from it:',
      ...fuzzCase.changed.changes.map((change) => `  - ${change.description}`),
    );
  }
  return lines;
}

function dockerfileSection(input: ReadmeInput): string[] {
  const { result, fuzzCase } = input;
  if (result.minimizedDockerfile !== undefined) {
    const count =
      result.minimizedInstructions === undefined ? '' : ` (${result.minimizedInstructions} instructions)`;
    const where = input.commands.checkMinimized ? 'In `minimized/`, with its context: the' : 'The';
    return [
      `## Minimized Dockerfile${count}`,
      '',
      `${where} smallest Dockerfile found whose image still shows the difference.`,
      '',
      ...fenced(result.minimizedDockerfile, 'dockerfile'),
    ];
  }
  return [
    '## Dockerfile',
    '',
    ...fenced((fuzzCase.changed?.input ?? fuzzCase.base).dockerfile, 'dockerfile'),
  ];
}

function commandsSection(commands: ReproduceCommands): string[] {
  const lines = [
    '## Reproduce',
    '',
    'Run from this folder (it needs Docker; `lost-layer-check` starts its own registry and buildkitd):',
    '',
    ...fenced(commandLine(commands.check), 'sh'),
  ];
  if (commands.checkMinimized) {
    lines.push('', 'The minimized version:', '', ...fenced(commandLine(commands.checkMinimized), 'sh'));
  }
  lines.push(
    '',
    'The fuzzer regenerates this case from its seed and case number alone:',
    '',
    ...fenced(commandLine(commands.regenerate), 'sh'),
  );
  return lines;
}

export function findingReadme(input: ReadmeInput): string {
  const { result } = input;
  const lines = [
    `# BuildKit ${result.buildkitVersion}: ${CLASS_TITLES[classOf(result)]}${involvedText(result)}`,
    '',
    ...factsLines(input),
    '',
    '## What differs',
    '',
    ...fenced(result.detail),
    '',
    ...dockerfileSection(input),
    '',
    ...commandsSection(input.commands),
    '',
  ];
  return lines.join('\n');
}
