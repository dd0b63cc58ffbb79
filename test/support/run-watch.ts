import { execFileSync } from 'node:child_process';

/** Names of running containers of ours (any run) whose name ends so. */
export function runningContainers(suffix: RegExp): string[] {
  return execFileSync('docker', ['ps', '--filter', 'label=dev.lost-layer', '--format', '{{.Names}}'], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter((name) => suffix.test(name));
}

/** Waits until a container of ours whose name matches runs, and returns its name. */
export async function waitForContainer(suffix: RegExp, timeoutMs = 120_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [name] = runningContainers(suffix);
    if (name) return name;
    if (Date.now() > deadline) throw new Error(`no container matching ${suffix} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' });
}
