/*
 * The GitHub Actions cache emulator as a process of its own, for a shell or a script that blocks its own
 * event loop (compat runs the CLI synchronously): prints one JSON line with the runner variables a job
 * would have, then serves until it is killed.
 *   node --import tsx scripts/gha-cache-server.ts
 */
import { GhaCacheServer } from './lib/gha-cache-server.js';

const server = await GhaCacheServer.start();
process.stdout.write(
  `${JSON.stringify({
    ACTIONS_RUNTIME_TOKEN: server.token,
    ACTIONS_CACHE_URL: server.cacheUrl,
    ACTIONS_RESULTS_URL: server.resultsUrl,
  })}\n`,
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void server.stop().finally(() => process.exit(0)));
}
