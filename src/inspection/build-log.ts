/**
 * The Dockerfile steps that a build ran instead of taking from the cache, read from buildctl's
 * `--progress plain` log. An attempt whose steps did not all come from the imported cache did not test the
 * import at all (a failed import only warns and builds from scratch), so it must not count as intact.
 */
export function stepsNotFromCache(progressLog: string): string[] {
  const lines = progressLog.split('\n').map((line) => line.trimEnd());
  const cached = new Set(lines.flatMap((line) => /^#(\d+) CACHED$/.exec(line)?.slice(1, 2) ?? []));
  const steps = new Map<string, string>();
  for (const line of lines) {
    // "#7 [3/4] COPY repro.txt /", or "#7 [stage-1 3/4] ..." in a multi-stage build; FROM is resolved, not built.
    const step = /^#(\d+) \[(?:[^\]]*\s)?\d+\/\d+\] (.+)$/.exec(line);
    if (step?.[1] && step[2] && !step[2].startsWith('FROM ')) steps.set(step[1], step[2]);
  }
  return [...steps].filter(([id]) => !cached.has(id)).map(([, instruction]) => instruction);
}
