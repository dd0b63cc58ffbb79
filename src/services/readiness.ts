/** An infrastructure step that failed: never a verdict on BuildKit's output. */
export class InfrastructureError extends Error {
  override name = 'InfrastructureError';
}

/** A buildkitd that did not start or answer; its container's logs tell why. */
export class DaemonStartError extends InfrastructureError {
  override name = 'DaemonStartError';
  constructor(
    readonly container: string,
    message: string,
  ) {
    super(message);
  }
}

/** Polls `ready` with back-off (50 ms to 0.5 s) until it says yes, throws, or `timeoutMs` pass. */
export async function waitUntil(
  what: string,
  timeoutMs: number,
  ready: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    if (await ready()) return;
    if (Date.now() > deadline)
      throw new InfrastructureError(`${what} did not answer within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
