/**
 * GitHub Enterprise Server has no job summaries in the versions Docker's actions support, so they skip it
 * there; so does this action. github.com and GHE.com (*.ghe.com) have them.
 */
export function hasJobSummaries(serverUrl: string | undefined): boolean {
  const hostname = new URL(serverUrl || 'https://github.com').hostname.toLowerCase();
  return hostname === 'github.com' || hostname.endsWith('.ghe.com');
}
