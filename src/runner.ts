/**
 * GitHub Enterprise Server has no job summaries in the versions Docker's actions support, so they skip it
 * there; so does this action. github.com and GHE.com (*.ghe.com) have them.
 */
export function hasJobSummaries(serverUrl: string | undefined): boolean {
  let hostname: string;
  try {
    hostname = new URL(serverUrl || 'https://github.com').hostname.toLowerCase();
  } catch {
    // A server address that is no URL says nothing against a summary: write it, as on github.com.
    return true;
  }
  return hostname === 'github.com' || hostname.endsWith('.ghe.com');
}
