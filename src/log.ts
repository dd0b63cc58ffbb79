import * as core from '@actions/core';

/** Where the engine speaks: the runner's log in the action, the terminal in the CLI. */
export interface Log {
  info(message: string): void;
  warning(message: string): void;
  group<T>(title: string, work: () => Promise<T>): Promise<T>;
}

export const actionLog: Log = {
  info: (message) => core.info(message),
  warning: (message) => core.warning(message),
  group: (title, work) => core.group(title, work),
};

export function consoleLog(stream: NodeJS.WritableStream = process.stderr): Log {
  return {
    info: (message) => stream.write(`${message}\n`),
    warning: (message) => stream.write(`warning: ${message}\n`),
    group: async (title, work) => {
      stream.write(`== ${title}\n`);
      return work();
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
