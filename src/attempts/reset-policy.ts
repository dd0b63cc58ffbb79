/**
 * Whether buildkitd starts from an empty state before this attempt (1-based). The first attempt always
 * does: the cache was made by another daemon. After that, every `frequency` attempts; 0 never again.
 * The bug needs a local cache half-filled by an earlier attempt, so resetting before every attempt
 * (frequency 1) hides it.
 */
export function resetsBefore(attempt: number, frequency: number): boolean {
  if (attempt === 1) return true;
  return frequency > 0 && (attempt - 1) % frequency === 0;
}
