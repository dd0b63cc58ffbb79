import * as core from '@actions/core';

/** The moments a run passes, for whoever watches it from outside: the fault suite and the soak fire on them. */
export type Phase = 'set-up' | 'cache-build' | 'reset' | 'attempt' | 'minimize' | 'cleanup';

/** `phase attempt 2 starts`: a debug line, written before the phase's first step. */
export function phaseLine(phase: Phase, detail?: string): string {
  return `phase ${phase}${detail ? ` ${detail}` : ''} starts`;
}

/** Where the engine speaks: the runner's log in the action, the terminal in the CLI. */
export interface Log {
  info(message: string): void;
  warning(message: string): void;
  group<T>(title: string, work: () => Promise<T>): Promise<T>;
  /** A phase starts (see Phase); a log that nobody watches leaves it out. */
  phase?(phase: Phase, detail?: string): void;
}

export const actionLog: Log = {
  info: (message) => core.info(message),
  warning: (message) => core.warning(message),
  group: (title, work) => core.group(title, work),
  phase: (phase, detail) => core.debug(phaseLine(phase, detail)),
};

export function consoleLog(stream: NodeJS.WritableStream = process.stderr): Log {
  return {
    info: (message) => stream.write(`${message}\n`),
    warning: (message) => stream.write(`warning: ${message}\n`),
    group: async (title, work) => {
      stream.write(`== ${title}\n`);
      return work();
    },
    // Shown as the runner's debug lines are: only when RUNNER_DEBUG=1 asks for them.
    phase: (phase, detail) => {
      if (process.env['RUNNER_DEBUG'] === '1') stream.write(`::debug::${phaseLine(phase, detail)}\n`);
    },
  };
}

/**
 * @actions/tool-cache speaks to the runner (`::debug::` lines, `[command]` echoes, written as strings); in a
 * terminal those lines are noise, so they are dropped unless RUNNER_DEBUG=1 asks for them. Bytes written as
 * buffers pass untouched.
 */
export function quietRunnerCommands(): void {
  if (process.env['RUNNER_DEBUG'] === '1') return;
  const write = process.stdout.write.bind(process.stdout) as (
    chunk: string | Uint8Array,
    ...rest: unknown[]
  ) => boolean;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof chunk !== 'string') return write(chunk, ...rest);
    const kept = chunk
      .split(/(?<=\n)/)
      .filter((line) => !line.startsWith('::debug::') && !line.startsWith('[command]'))
      .join('');
    if (kept !== '') return write(kept, ...rest);
    (rest.find((arg) => typeof arg === 'function') as (() => void) | undefined)?.();
    return true;
  }) as typeof process.stdout.write;
}
