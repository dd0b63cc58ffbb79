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
