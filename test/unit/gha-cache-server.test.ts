import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { after, before, it } from 'node:test';
import { GhaCacheServer } from '../../scripts/lib/gha-cache-server.js';

const VERSION = 'e3b0c44298fc1c149afbf4c8996fb924';
const TWIRP = 'twirp/github.actions.results.api.v1.CacheService/';

/** A request through node:http, which (unlike fetch) sends the Host header it is given. */
function requestAs(
  host: string,
  url: string,
  options: { method: string; headers: Record<string, string>; body?: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const sent = request(
      url,
      { method: options.method, headers: { ...options.headers, Host: host } },
      (response) => {
        const parts: Buffer[] = [];
        response.on('data', (part: Buffer) => parts.push(part));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(parts).toString() }),
        );
      },
    );
    sent.on('error', reject);
    sent.end(options.body);
  });
}

let server: GhaCacheServer;
before(async () => {
  server = await GhaCacheServer.start({ host: '127.0.0.1' });
});
after(() => server.stop());

const auth = () => ({ Authorization: `Bearer ${server.token}` });
const v1 = (path: string, method = 'GET', body?: BodyInit, headers: Record<string, string> = {}) =>
  fetch(`${server.cacheUrl}_apis/artifactcache/${path}`, {
    method,
    body,
    headers: { ...auth(), ...headers },
  });
const v1Json = (path: string, body: unknown) =>
  v1(path, 'POST', JSON.stringify(body), { 'Content-Type': 'application/json' });
const v1Lookup = (keys: string, version = VERSION) =>
  v1(`cache?${new URLSearchParams({ keys, version }).toString()}`);
const twirp = async (method: string, body: unknown) => {
  const response = await fetch(`${server.resultsUrl}${TWIRP}${method}`, {
    method: 'POST',
    headers: { ...auth(), 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

/** Reserves, uploads in one chunk and commits, as go-actions-cache's Save does over v1. */
async function v1Save(key: string, text: string): Promise<void> {
  const { cacheId } = (await (await v1Json('caches', { key, version: VERSION })).json()) as {
    cacheId: number;
  };
  const range = { 'Content-Range': `bytes 0-${text.length - 1}/*` };
  assert.equal((await v1(`caches/${cacheId}`, 'PATCH', text, range)).status, 204);
  assert.equal((await v1Json(`caches/${cacheId}`, { size: text.length })).status, 204);
}

it('issues a JWT whose ac claim grants read and write on one scope, valid now', () => {
  const [, payload] = server.token.split('.');
  const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>;
  assert.deepEqual(JSON.parse(String(claims.ac)), [{ Scope: 'refs/heads/main', Permission: 3 }]);
  const now = Date.now() / 1000;
  assert.ok(Number(claims.nbf) <= now && now <= Number(claims.exp));
});

it('v1: a miss is 204; chunks PATCHed out of order commit to one blob, downloaded whole and by range', async () => {
  const key = 'buildkit-blob-1-sha256:aaa';
  assert.equal((await v1Lookup(key)).status, 204);
  const reserved = await v1Json('caches', { key, version: VERSION });
  assert.equal(reserved.status, 201);
  const { cacheId } = (await reserved.json()) as { cacheId: number };
  const data = randomBytes(3000);
  for (const start of [2000, 0, 1000]) {
    const chunk = data.subarray(start, start + 1000);
    const range = { 'Content-Range': `bytes ${start}-${start + 999}/*` };
    assert.equal((await v1(`caches/${cacheId}`, 'PATCH', chunk, range)).status, 204);
  }
  assert.equal((await v1Json(`caches/${cacheId}`, { size: 3000 })).status, 204);

  const hit = await v1Lookup(`${key},buildkit-blob-1-`);
  assert.equal(hit.status, 200);
  const entry = (await hit.json()) as { cacheKey: string; scope: string; archiveLocation: string };
  assert.equal(entry.cacheKey, key);
  assert.equal(entry.scope, 'refs/heads/main');
  assert.ok(entry.archiveLocation.startsWith(server.cacheUrl), entry.archiveLocation);
  assert.deepEqual(Buffer.from(await (await fetch(entry.archiveLocation)).arrayBuffer()), data);
  const tail = await fetch(entry.archiveLocation, { headers: { Range: 'bytes=2500-' } });
  assert.equal(tail.status, 206);
  assert.equal(tail.headers.get('content-range'), 'bytes 2500-2999/3000');
  assert.deepEqual(Buffer.from(await tail.arrayBuffer()), data.subarray(2500));
  assert.deepEqual(
    server.entries().find((saved) => saved.key === key),
    { key, version: VERSION, scope: 'refs/heads/main', size: 3000, api: 1 },
  );
});

it('v1: a key matches exactly, else the newest key it prefixes; never across versions', async () => {
  for (const key of ['index-a#1', 'index-a#2', 'index-a']) await v1Save(key, key);
  const matched = async (keys: string, version?: string) => {
    const response = await v1Lookup(keys, version);
    return response.status === 204 ? undefined : ((await response.json()) as { cacheKey: string }).cacheKey;
  };
  assert.equal(await matched('index-a'), 'index-a');
  assert.equal(await matched('index-a#'), 'index-a#2');
  assert.equal(await matched('index-b,index-a#'), 'index-a#2');
  assert.equal(await matched('index-a', 'another-version'), undefined);
});

it('v1: a key already saved or being saved is a 409 the Go client reads as ErrExist', async () => {
  await v1Save('taken', 'x');
  const again = await v1Json('caches', { key: 'taken', version: VERSION });
  assert.equal(again.status, 409);
  assert.equal(
    ((await again.json()) as { typeKey: string }).typeKey,
    'ArtifactCacheItemAlreadyExistsException',
  );
  assert.equal((await v1Json('caches', { key: 'pending', version: VERSION })).status, 201);
  assert.equal((await v1Json('caches', { key: 'pending', version: VERSION })).status, 409);
});

it('v1: a commit whose chunks leave a gap is refused', async () => {
  const { cacheId } = (await (await v1Json('caches', { key: 'gap', version: VERSION })).json()) as {
    cacheId: number;
  };
  await v1(`caches/${cacheId}`, 'PATCH', Buffer.alloc(10), { 'Content-Range': 'bytes 10-19/*' });
  assert.equal((await v1Json(`caches/${cacheId}`, { size: 20 })).status, 400);
});

it('v2: create, stage blocks, commit the block list, finalize, then download by the signed URL', async () => {
  const key = 'buildkit-blob-1-sha256:bbb';
  const miss = await twirp('GetCacheEntryDownloadURL', { key, restore_keys: [key], version: VERSION });
  assert.deepEqual(miss.body, { ok: false, signed_download_url: '', matched_key: '' });
  const created = await twirp('CreateCacheEntry', { key, version: VERSION });
  assert.equal(created.body.ok, true);
  const uploadUrl = String(created.body.signed_upload_url);
  const blocks = { QQ: randomBytes(1500), Qg: randomBytes(700) };
  for (const [blockId, data] of Object.entries(blocks).reverse()) {
    const staged = await fetch(`${uploadUrl}&comp=block&blockid=${blockId}`, { method: 'PUT', body: data });
    assert.equal(staged.status, 201);
  }
  const blockList =
    '<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>QQ</Latest><Latest>Qg</Latest></BlockList>';
  const committed = await fetch(`${uploadUrl}&comp=blocklist`, { method: 'PUT', body: blockList });
  assert.equal(committed.status, 201);
  assert.ok(committed.headers.get('x-ms-request-id'));
  assert.ok(committed.headers.get('etag'));

  assert.equal(
    (await twirp('FinalizeCacheEntryUpload', { key, version: VERSION, size_bytes: 1 })).status,
    400,
  );
  const finalized = await twirp('FinalizeCacheEntryUpload', { key, version: VERSION, size_bytes: '2200' });
  assert.deepEqual(finalized.body, { ok: true, entry_id: finalized.body.entry_id });
  assert.equal(typeof finalized.body.entry_id, 'string');

  const found = await twirp('GetCacheEntryDownloadURL', {
    key: 'nothing-like-it',
    restore_keys: ['nothing-like-it', 'buildkit-blob-1-sha256:b'],
    version: VERSION,
  });
  assert.equal(found.body.matched_key, key);
  const downloadUrl = String(found.body.signed_download_url);
  const whole = Buffer.concat([blocks.QQ, blocks.Qg]);
  assert.deepEqual(Buffer.from(await (await fetch(downloadUrl)).arrayBuffer()), whole);
  const tail = await fetch(downloadUrl, { headers: { 'x-ms-range': 'bytes=2000-' } });
  assert.equal(tail.status, 206);
  assert.deepEqual(Buffer.from(await tail.arrayBuffer()), whole.subarray(2000));
  assert.equal((await twirp('CreateCacheEntry', { key, version: VERSION })).body.code, 'already_exists');
});

it('v2: Put Blob uploads in one shot; a signed URL with a wrong signature is 403', async () => {
  const created = await twirp('CreateCacheEntry', { key: 'small', version: VERSION });
  const uploadUrl = String(created.body.signed_upload_url);
  const headers = { 'x-ms-blob-type': 'BlockBlob' };
  assert.equal(
    (await fetch(uploadUrl.replace(/sig=\w+/, 'sig=forged'), { method: 'PUT', headers })).status,
    403,
  );
  assert.equal((await fetch(uploadUrl, { method: 'PUT', headers, body: 'tiny' })).status, 201);
  assert.equal(
    (await twirp('FinalizeCacheEntryUpload', { key: 'small', version: VERSION, size_bytes: 4 })).status,
    200,
  );
  const found = await twirp('GetCacheEntryDownloadURL', {
    key: 'small',
    restore_keys: [],
    version: VERSION,
  });
  assert.equal(await (await fetch(String(found.body.signed_download_url))).text(), 'tiny');
});

it('answers 401 to either API without the runtime token', async () => {
  const lookup = `${server.cacheUrl}_apis/artifactcache/cache?keys=a&version=${VERSION}`;
  assert.equal((await fetch(lookup)).status, 401);
  assert.equal((await fetch(lookup, { headers: { Authorization: 'Bearer nope' } })).status, 401);
  const create = await fetch(`${server.resultsUrl}${TWIRP}CreateCacheEntry`, {
    method: 'POST',
    body: '{}',
  });
  assert.equal(create.status, 401);
  assert.equal(((await create.json()) as { code: string }).code, 'unauthenticated');
});

it('builds the URLs it hands out from the Host header the request came with', async () => {
  await v1Save('hosted', 'from the container');
  const host = `host.docker.internal:${server.port}`;
  const headers = { ...auth(), 'Content-Type': 'application/json' };
  const lookupUrl = `${server.cacheUrl}_apis/artifactcache/cache?keys=hosted&version=${VERSION}`;
  const lookup = await requestAs(host, lookupUrl, { method: 'GET', headers });
  const archiveLocation = new URL((JSON.parse(lookup.body) as { archiveLocation: string }).archiveLocation);
  assert.equal(archiveLocation.host, host);
  archiveLocation.host = `127.0.0.1:${server.port}`;
  assert.equal(await (await fetch(archiveLocation)).text(), 'from the container');

  const body = JSON.stringify({ key: 'hosted-v2', version: VERSION });
  const created = await requestAs(host, `${server.resultsUrl}${TWIRP}CreateCacheEntry`, {
    method: 'POST',
    headers,
    body,
  });
  assert.equal(
    new URL((JSON.parse(created.body) as { signed_upload_url: string }).signed_upload_url).host,
    host,
  );
});

it('removeEntries drops the committed entries under a key prefix, as a cleanup would', async () => {
  await v1Save('doomed-1', '1');
  await v1Save('doomed-2', '2');
  const { archiveLocation } = (await (await v1Lookup('doomed-1')).json()) as { archiveLocation: string };
  assert.equal(server.removeEntries('doomed-'), 2);
  assert.equal((await v1Lookup('doomed-')).status, 204);
  assert.equal((await fetch(archiveLocation)).status, 404);
  assert.ok(!server.entries().some((entry) => entry.key.startsWith('doomed-')));
});

it('stop() cuts a request in flight and refuses new connections', async () => {
  const dying = await GhaCacheServer.start({ host: '127.0.0.1' });
  const headers = {
    Authorization: `Bearer ${dying.token}`,
    'Content-Range': 'bytes 0-99/*',
    'Content-Length': '100',
  };
  const halfSent = request(`${dying.cacheUrl}_apis/artifactcache/caches/1`, { method: 'PATCH', headers });
  const cut = new Promise<Error>((resolve, reject) => {
    halfSent.on('error', resolve);
    halfSent.on('response', () => reject(new Error('a half-sent chunk got an answer')));
  });
  halfSent.write(Buffer.alloc(10));
  // Connected before the lookup, so the server has accepted it by the time it answers the lookup.
  await new Promise((resolve) => halfSent.on('socket', (socket) => socket.on('connect', resolve)));
  assert.equal((await fetch(`${dying.cacheUrl}_apis/artifactcache/cache?keys=a&version=b`)).status, 401);

  await dying.stop();
  assert.match((await cut).message, /socket hang up|ECONNRESET/);
  await assert.rejects(fetch(`${dying.cacheUrl}_apis/artifactcache/cache?keys=a&version=b`));
});
