import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { registryGet } from '../../src/stores/registry-fetch.js';

const LOGIN = { username: 'me', password: 'pw' };
const BASIC = `Basic ${Buffer.from('me:pw').toString('base64')}`;

/** A registry that asks for a Bearer token (as GHCR and Docker Hub do) at /v2/bearer, Basic at /v2/basic. */
let server: http.Server;
let origin: string;
const tokenRequests: (string | undefined)[] = [];

before(async () => {
  server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '', origin);
    if (url.pathname === '/token') {
      tokenRequests.push(request.headers.authorization);
      const scope = url.searchParams.get('scope');
      response.end(JSON.stringify({ token: `t-for-${scope ?? ''}` }));
    } else if (url.pathname === '/v2/bearer') {
      if (request.headers.authorization === 'Bearer t-for-repository:team/app:pull')
        response.end('bearer body');
      else {
        response.writeHead(401, {
          'WWW-Authenticate': `Bearer realm="${origin}/token",service="test",scope="repository:team/app:pull"`,
        });
        response.end();
      }
    } else if (url.pathname === '/v2/basic') {
      if (request.headers.authorization === BASIC) response.end('basic body');
      else {
        response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"' });
        response.end();
      }
    } else response.end('open body');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

describe('reading a registry as a Docker client does', () => {
  it('anonymous when the registry asks for nothing', async () => {
    assert.equal((await registryGet(`${origin}/v2/open`, undefined)).toString(), 'open body');
  });

  it("a Bearer challenge: a token from the realm, asked with the login, for the challenge's scope", async () => {
    assert.equal((await registryGet(`${origin}/v2/bearer`, undefined, LOGIN)).toString(), 'bearer body');
    assert.equal(tokenRequests.at(-1), BASIC);
    // Without a login the token is asked anonymously (a public image on GHCR).
    await registryGet(`${origin}/v2/bearer`, undefined);
    assert.equal(tokenRequests.at(-1), undefined);
  });

  it('a Basic challenge: the login; none given, the 401 is the error', async () => {
    assert.equal((await registryGet(`${origin}/v2/basic`, undefined, LOGIN)).toString(), 'basic body');
    await assert.rejects(registryGet(`${origin}/v2/basic`, undefined), /HTTP 401/);
  });
});
