import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export interface ReleaseServer {
  /** http://127.0.0.1:PORT */
  origin: string;
  /** A buildctl-url template for the release-shaped tarballs: {origin}/{version}/buildkit-{version}.linux-{arch}.tar.gz */
  urlTemplate: string;
  requests: string[];
  close(): Promise<void>;
}

/**
 * Serves the test bed's release tarballs on 127.0.0.1, laid out as {version}/buildkit-{version}.linux-{arch}.tar.gz,
 * so that the action's real download and tool-cache path runs offline.
 */
export async function serveReleases(dir: string): Promise<ReleaseServer> {
  const requests: string[] = [];
  const server = http.createServer((request, response) => {
    const urlPath = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    requests.push(urlPath);
    const file = path.join(dir, path.posix.normalize(urlPath));
    if (!file.startsWith(dir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/gzip', 'content-length': fs.statSync(file).size });
    fs.createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    urlTemplate: `${origin}/{version}/buildkit-{version}.linux-{arch}.tar.gz`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// As a command: serve until stopped, printing the buildctl-url template on the first line.
if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const dir = path.resolve(process.argv[2] ?? '.');
  const server = await serveReleases(dir);
  process.stdout.write(`${server.urlTemplate}\n`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void server.close().then(() => process.exit(0)));
}
