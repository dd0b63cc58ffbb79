import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A registry on 127.0.0.1 that answers GETs of the paths it is given (`/v2/<repo>/manifests/<tag>`,
 * `/v2/<repo>/blobs/<digest>`) with their bytes and 404 otherwise: enough for the readers of one image.
 */
export async function withRegistry<T>(
  paths: ReadonlyMap<string, Buffer>,
  work: (address: string) => Promise<T>,
): Promise<T> {
  const server = http.createServer((request, response) => {
    const body = paths.get(request.url ?? '');
    response.writeHead(body ? 200 : 404).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await work(`127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.close();
  }
}
