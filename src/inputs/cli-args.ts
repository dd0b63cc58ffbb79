import { parseArgs } from 'node:util';
import { INPUT_NAMES, INPUTS, type RawInputs } from './input-table.js';

/** The seed script's environment variables, and the inputs each one sets. */
const SEED_ENVIRONMENT: Record<string, (value: string) => Record<string, string>> = {
  BUILDKIT_IMAGE: (value) => ({ 'buildkit-image': value }),
  RETRIES: (value) => ({ retries: value }),
  CACHE_RESET_FREQ: (value) => ({ 'cache-reset-frequency': value }),
  // The seed tests these for being set at all, whatever their value.
  NO_CLEANUP: () => ({ cleanup: 'false' }),
  // The seed keeps its local cache in ./cache, where a later SKIP_CREATE_CACHE run finds it.
  USE_LOCAL_CACHE: () => ({ 'cache-type': 'local', 'cache-dir': 'cache' }),
  SKIP_CREATE_CACHE: () => ({ 'create-cache': 'false' }),
  SKIP_TESTS: () => ({ 'run-attempts': 'false' }),
};

export interface CliRequest {
  help: boolean;
  inputs: RawInputs;
  /** Where to write the Markdown summary, if anywhere. */
  summaryFile?: string;
}

/** Flags named like the action's inputs (--retries 40); the seed's variables fill what flags leave out. */
export function parseCliArgs(argv: readonly string[], env: NodeJS.ProcessEnv): CliRequest {
  const options = Object.fromEntries(INPUT_NAMES.map((name) => [name, { type: 'string' as const }]));
  const { values } = parseArgs({
    args: [...argv],
    options: { ...options, help: { type: 'boolean', short: 'h' }, summary: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  const inputs: Record<string, string> = {};
  for (const [variable, toInputs] of Object.entries(SEED_ENVIRONMENT)) {
    const value = env[variable];
    if (value !== undefined) Object.assign(inputs, toInputs(value));
  }
  const fromFlags = values as Record<string, string | boolean | undefined>;
  // A --cache-type flag that overrides USE_LOCAL_CACHE takes the seed's ./cache with it.
  if (typeof fromFlags['cache-type'] === 'string' && fromFlags['cache-type'] !== 'local')
    delete inputs['cache-dir'];
  for (const name of INPUT_NAMES) {
    const value = fromFlags[name];
    if (typeof value === 'string') inputs[name] = value;
  }
  return {
    help: values.help === true,
    inputs,
    summaryFile: typeof values.summary === 'string' ? values.summary : undefined,
  };
}

/** The fuzz command's short flags, and the inputs they stand for. */
const FUZZ_FLAGS: Readonly<Record<string, string>> = {
  '--seed': '--fuzz-seed',
  '--case': '--fuzz-case',
  '--cases': '--fuzz-cases',
  '--budget': '--fuzz-budget',
  '--shard': '--fuzz-shard',
};

/**
 * `lost-layer-check fuzz [--seed N] [--case N | --cases N] [--budget S] [--shard I/N] [--out DIR] …`: the
 * arguments as the check's flags (the short ones renamed, `--fuzz true` added), and the output folder.
 */
export function fuzzCliArgs(argv: readonly string[]): { inputs: string[]; outDir: string | undefined } {
  const inputs: string[] = ['--fuzz', 'true'];
  let outDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    // Only a flag is read at its '=', and kept whole (a value may start with a dash, as docker's options
    // do); a value is passed as it is, '=' and all (--mirror-images a=b).
    const [flag = '', value] = arg.startsWith('--') ? arg.split(/=(.*)/s) : [arg];
    if (flag === '--out') {
      if ((outDir = value ?? argv[++i]) === undefined) throw new Error('--out needs a folder');
    } else inputs.push(`${FUZZ_FLAGS[flag] ?? flag}${value === undefined ? '' : `=${value}`}`);
  }
  return { inputs, outDir };
}

export function usage(): string {
  return [
    'usage: lost-layer-check [--INPUT VALUE ...] [--summary FILE]',
    '       lost-layer-check table [--versions v0.9.0,v0.9.1] REPORT_OR_FOLDER...',
    '       lost-layer-check fuzz [--seed N] [--case N | --cases N] [--budget S] [--shard I/N] [--out DIR] [--INPUT VALUE ...]',
    '       lost-layer-check fuzz-table FUZZ_REPORT_OR_FOLDER...',
    '',
    "Runs the same check as the GitHub Action on this machine's Docker engine.",
    'Every action input is a flag of the same name, e.g. --buildkit-image moby/buildkit:v0.9.0 --retries 40.',
    'The seed script variables BUILDKIT_IMAGE, RETRIES, CACHE_RESET_FREQ, NO_CLEANUP, USE_LOCAL_CACHE,',
    'SKIP_CREATE_CACHE and SKIP_TESTS are honoured; flags win over them.',
    '',
    'Exit status: 0 no layer lost (or no attempts asked for), 1 a layer was lost, 2 no verdict (error) or a',
    'minimization that could not finish.',
    'table prints one Markdown table of many reports: versions in semver order, and where the loss stops.',
    'fuzz runs generated Dockerfiles and contexts (some with a changed version the cache is made from), each',
    'held to its own clean build; findings are bug-report folders in --out. Exit 1 when a case found one.',
    'fuzz-table merges the fuzz-report.json of many shards into one table of findings and coverage.',
    '',
    'Inputs (flags), as the action takes them:',
    ...INPUTS.map((input) => {
      const shown = input.default
        ? ` (default ${input.default.length > 40 ? 'see action.yml' : input.default})`
        : '';
      return `  --${input.name.padEnd(28)} ${input.usage}${shown}`;
    }),
  ].join('\n');
}
