import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from '../../scripts/lib/testbed.js';

interface ActionYml {
  inputs: Record<string, { default?: string }>;
  runs: { using: string; main: string; post?: string };
}

export interface StepResult {
  exitCode: number;
  signal?: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ActionRun {
  main: StepResult;
  post: StepResult;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
}

export interface RunnerDirs {
  toolCache: string;
  temp: string;
  workspace: string;
}

/** Every runner folder this test process made: removed when it exits (KEEP_RUNNER_DIRS=1 keeps them to read). */
const madeRoots: string[] = [];
process.on('exit', () => {
  if (process.env['KEEP_RUNNER_DIRS'] === '1') return;
  for (const root of madeRoots) fs.rmSync(root, { recursive: true, force: true });
});

export function runnerDirs(): RunnerDirs {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lost-layer-runner-'));
  madeRoots.push(root);
  const dirs = {
    toolCache: path.join(root, 'tool-cache'),
    temp: path.join(root, 'temp'),
    workspace: path.join(root, 'ws'),
  };
  for (const dir of Object.values(dirs)) fs.mkdirSync(dir, { recursive: true });
  return dirs;
}

/**
 * Runs the bundled action as GitHub's runner does: every input of action.yml as INPUT_* (with its
 * default when not given), the runner's files for outputs, state and summary, then the post step with
 * the state that the main step saved.
 */
export interface RunOptions {
  /** The folder of the action.yml to run (default: the repository's root action). */
  actionDir?: string;
  /** More of the runner's environment, e.g. GITHUB_API_URL. */
  env?: Record<string, string>;
  /** Called once the main step has started, with its process: to signal it as a cancelled job would. */
  onMainStarted?: (child: ChildProcess) => void;
  /** Called once the post step has started, with its process: the soak kills it as its cleanup starts. */
  onPostStarted?: (child: ChildProcess) => void;
  /** Where the runner's files (outputs, state, summary) go: RUNNER_TEMP unless the caller fills that disk. */
  filesDir?: string;
}

export async function runAction(
  inputs: Record<string, string>,
  dirs: RunnerDirs,
  { actionDir = repoRoot, env: extraEnv = {}, onMainStarted, onPostStarted, filesDir }: RunOptions = {},
): Promise<ActionRun> {
  const action = parseYaml(fs.readFileSync(path.join(actionDir, 'action.yml'), 'utf8')) as ActionYml;
  const files = fs.mkdtempSync(path.join(filesDir ?? dirs.temp, 'runner-files-'));
  const outputFile = path.join(files, 'output');
  const stateFile = path.join(files, 'state');
  const summaryFile = path.join(files, 'summary');
  for (const file of [outputFile, stateFile, summaryFile]) fs.writeFileSync(file, '');

  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? os.homedir(),
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: dirs.workspace,
    RUNNER_TEMP: dirs.temp,
    RUNNER_TOOL_CACHE: dirs.toolCache,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STATE: stateFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    ...extraEnv,
  };
  for (const [name, spec] of Object.entries(action.inputs)) {
    // ${{ github.token }} is the runner's to fill; there is no token here.
    const fallback = (spec.default ?? '').includes('${{') ? '' : (spec.default ?? '');
    env[`INPUT_${name.toUpperCase()}`] = inputs[name] ?? fallback;
  }
  for (const name of Object.keys(inputs)) {
    if (!(name in action.inputs)) throw new Error(`action.yml has no input ${name}`);
  }

  const main = await runNode(path.join(actionDir, action.runs.main), env, onMainStarted);
  const state = parseCommandFile(fs.readFileSync(stateFile, 'utf8'));
  const postEnv = { ...env };
  for (const [name, value] of Object.entries(state)) postEnv[`STATE_${name}`] = value;
  const post = action.runs.post
    ? await runNode(path.join(actionDir, action.runs.post), postEnv, onPostStarted)
    : { exitCode: 0, stdout: '', stderr: '' };
  return {
    main,
    post,
    outputs: parseCommandFile(fs.readFileSync(outputFile, 'utf8')),
    state,
    summary: fs.readFileSync(summaryFile, 'utf8'),
  };
}

/** Runs a Node script to its end: a step of the action, or the CLI with its arguments. */
export function runNode(
  script: string,
  env: Record<string, string>,
  onStarted?: (child: ChildProcess) => void,
  { args = [], cwd }: { args?: string[]; cwd?: string } = {},
): Promise<StepResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(cwd ? { cwd } : {}),
    });
    onStarted?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ exitCode: code ?? -1, signal, stdout, stderr }));
  });
}

/** The CLI's flags for the action's inputs: `--retries=40`, named alike. */
export function cliFlags(inputs: Record<string, string>): string[] {
  return Object.entries(inputs).map(([name, value]) => `--${name}=${value}`);
}

/** GITHUB_OUTPUT and GITHUB_STATE: `name<<DELIMITER`, the value's lines, `DELIMITER`. */
export function parseCommandFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^=<]+)<<(.+)$/.exec(lines[i] ?? '');
    if (!match) continue;
    const [, name = '', delimiter] = match;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? '');
    values[name] = value.join('\n');
  }
  return values;
}
