import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export interface ReleaseServer {
  /** http://127.0.0.1:PORT: also the GITHUB_API_URL of the release API it answers. */
  origin: string;
  /** A buildctl-url template for the release-shaped tarballs: {origin}/{version}/buildkit-{version}.linux-{arch}.tar.gz */
  urlTemplate: string;
  requests: string[];
  /** What the release API says of an asset's digest: its real SHA-256 unless told otherwise. */
  digests: Map<string, string | null>;
  /** Answer this many tarball downloads with 503 first (a flaky mirror). */
  failNextDownloads: number;
  close(): Promise<void>;
}

/**
 * Serves the test bed's release tarballs on 127.0.0.1, laid out as {version}/buildkit-{version}.linux-{arch}.tar.gz,
 * and GitHub's release API for them (/repos/OWNER/REPO/releases/tags/{version}, with each asset's `digest`),
 * so that the action's real download, verification and tool-cache path runs offline.
 */
export async function serveReleases(dir: string): Promise<ReleaseServer> {
  const state = { requests: [] as string[], digests: new Map<string, string | null>(), failNextDownloads: 0 };
  const server = http.createServer((request, response) => {
    const urlPath = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    state.requests.push(urlPath);
    const api = /^\/repos\/[^/]+\/[^/]+\/releases\/tags\/([^/]+)$/.exec(urlPath);
    if (api?.[1]) {
      const version = api[1];
      const folder = path.join(dir, path.basename(version));
      if (!fs.existsSync(folder)) {
        response.writeHead(404).end('{"message":"Not Found"}');
        return;
      }
      const assets = fs
        .readdirSync(folder)
        .filter((name) => name.endsWith('.tar.gz'))
        .map((name) => {
          const real = `sha256:${fs.readFileSync(path.join(folder, `${name}.sha256`), 'utf8').split(' ')[0]}`;
          return { name, digest: state.digests.has(name) ? state.digests.get(name) : real };
        });
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ tag_name: version, assets }));
      return;
    }
    const file = path.join(dir, path.posix.normalize(urlPath));
    if (!file.startsWith(dir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      response.writeHead(404).end('not found');
      return;
    }
    if (state.failNextDownloads > 0) {
      state.failNextDownloads -= 1;
      response.writeHead(503).end('try again');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/gzip', 'content-length': fs.statSync(file).size });
    fs.createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, {
    origin,
    urlTemplate: `${origin}/{version}/buildkit-{version}.linux-{arch}.tar.gz`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

// As a command: serve until stopped, printing the buildctl-url template on the first line and the API origin
// on the second.
if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const dir = path.resolve(process.argv[2] ?? '.');
  const server = await serveReleases(dir);
  process.stdout.write(`${server.urlTemplate}\n${server.origin}\n`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void server.close().then(() => process.exit(0)));
}
