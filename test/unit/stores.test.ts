import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { indexKeys, tokenScopes } from '../../src/stores/gha-store.js';
import { S3Store } from '../../src/stores/s3-store.js';

/** A bucket of three pages of keys (one key a page, as a server may cut a listing), in path style. */
let server: http.Server;
let endpoint: string;
const requests: string[] = [];
const KEYS = ['run/a b', 'run/blobs/sha256:1', 'run/manifests/latest'];

before(async () => {
  server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '', 'http://bucket.test');
    requests.push(`${request.method ?? ''} ${url.pathname}${url.search}`);
    assert.match(request.headers.authorization ?? '', /^AWS4-HMAC-SHA256 Credential=AKIATEST\//);
    if (request.method === 'GET' && url.searchParams.get('list-type') === '2') {
      const page = Number(url.searchParams.get('continuation-token') ?? '0');
      const keys = KEYS.filter((key) => key.startsWith(url.searchParams.get('prefix') ?? ''));
      const more = page + 1 < keys.length;
      response.end(
        `<?xml version="1.0"?><ListBucketResult><IsTruncated>${more}</IsTruncated>` +
          (keys[page] ? `<Contents><Key>${keys[page].replace('&', '&amp;')}</Key></Contents>` : '') +
          (more ? `<NextContinuationToken>${page + 1}</NextContinuationToken>` : '') +
          '</ListBucketResult>',
      );
    } else if (request.method === 'DELETE') {
      response.statusCode = 204;
      response.end();
    } else if (url.pathname === '/ci-cache/run/manifests/latest') response.end('{"layers":[]}');
    else {
      response.statusCode = 404;
      response.end('<Error><Code>NoSuchKey</Code></Error>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

const store = () =>
  new S3Store({
    endpointUrl: endpoint,
    region: 'eu-west-1',
    bucket: 'ci-cache',
    usePathStyle: true,
    credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'secret', sessionToken: '' },
  });

describe('the S3 calls this process makes', () => {
  it('lists every page below a prefix, each key decoded', async () => {
    assert.deepEqual(await store().keys('run/'), KEYS);
    assert.deepEqual(await store().keys('run/blobs/'), ['run/blobs/sha256:1']);
  });

  it('reads an object, and a missing one as undefined', async () => {
    assert.equal((await store().get('run/manifests/latest'))?.toString(), '{"layers":[]}');
    assert.equal(await store().get('run/manifests/other'), undefined);
  });

  it('deletes each key below the prefix, each in its own path, then lists again', async () => {
    requests.length = 0;
    await store().removeAll('run/');
    const deletes = requests.filter((line) => line.startsWith('DELETE'));
    assert.deepEqual(deletes, [
      'DELETE /ci-cache/run/a%20b',
      'DELETE /ci-cache/run/blobs/sha256%3A1',
      'DELETE /ci-cache/run/manifests/latest',
    ]);
  });

  it('says why the bucket cannot be used, with the code S3 gave', async () => {
    const refused = new S3Store({
      endpointUrl: endpoint,
      region: 'eu-west-1',
      bucket: 'other',
      usePathStyle: true,
      credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'secret', sessionToken: '' },
    });
    assert.equal(await refused.problem('run/'), undefined, 'a listing that answers');
    const gone = new S3Store({
      endpointUrl: 'http://127.0.0.1:9',
      region: 'eu-west-1',
      bucket: 'ci-cache',
      usePathStyle: true,
      credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'secret', sessionToken: '' },
    });
    assert.match((await gone.problem('run/')) ?? '', /GET http:\/\/127\.0\.0\.1:9\/ci-cache\//);
  });
});

describe("the gha cache's index, as BuildKit names it", () => {
  const token = (ac: unknown) =>
    ['e30', Buffer.from(JSON.stringify({ ac: JSON.stringify(ac) })).toString('base64url'), 'sig'].join('.');

  it("reads the token's scopes, and names the index after its write scope, hashed and as it is", () => {
    const runtime = token([
      { Scope: 'refs/heads/base', Permission: 1 },
      { Scope: 'refs/heads/main', Permission: 3 },
    ]);
    assert.deepEqual(
      tokenScopes(runtime).map((s) => s.Scope),
      ['refs/heads/base', 'refs/heads/main'],
    );
    const hashed = createHash('sha256').update('refs/heads/main').digest('hex').slice(0, 8);
    assert.deepEqual(indexKeys({ scope: 'buildkit', token: runtime }), [
      `index-buildkit-1-${hashed}`,
      'index-buildkit-1-refs/heads/main',
    ]);
  });

  it('a token that is not a JWT has no scopes: no exception', () => {
    assert.deepEqual(tokenScopes('not-a-jwt'), []);
  });
});
