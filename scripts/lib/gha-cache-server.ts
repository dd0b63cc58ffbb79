import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as semver from 'semver';
import { GHA_API_SINCE } from '../../src/backends/backends.js';
import {
  assembleChunks,
  CacheStore,
  type GhaCacheEntry,
  integerField,
  parseContentRange,
  putBlob,
  readBody,
  readJson,
  runtimeToken,
  sendAzureError,
  sendBlob,
  sendJson,
  sendTwirpError,
  sendV1Error,
  stringField,
} from './gha-cache-protocol.js';

export type { GhaCacheEntry } from './gha-cache-protocol.js';

/** The one scope the token grants read and write on, as a run on the default branch gets. */
const SCOPE = 'refs/heads/main';
const V1_PREFIX = '/_apis/artifactcache/';
const TWIRP_PREFIX = '/twirp/github.actions.results.api.v1.CacheService/';
const TWIRP_METHODS = new Set(['CreateCacheEntry', 'FinalizeCacheEntryUpload', 'GetCacheEntryDownloadURL']);
const BLOB_PREFIX = '/blob/';
/** Past Go's 90 s idle timeout, so the client closes idle connections first and never reuses a dying one. */
const KEEP_ALIVE_MS = 120_000;

/** Signed-URL permissions, as in an Azure SAS: read a committed blob, create and write a reserved one. */
type Permission = 'r' | 'cw';

const etag = (id: number) => `"0x8D${id.toString(16).toUpperCase()}"`;

/**
 * The GitHub Actions cache service as go-actions-cache (BuildKit's `type=gha`) speaks to it: the v1 REST API
 * with chunked uploads, and the v2 twirp API whose signed URLs lead to an Azure-Blob-like store. Blobs stay in
 * memory. URLs in answers are built from the request's Host, so a client in a container that reaches this
 * host as host.docker.internal is sent back there.
 */
export class GhaCacheServer {
  readonly port: number;
  readonly cacheUrl: string;
  readonly resultsUrl: string;
  readonly token = runtimeToken(SCOPE);
  private readonly urlSecret = randomBytes(32);
  private readonly store = new CacheStore(SCOPE);

  private constructor(private readonly server: Server) {
    this.port = (server.address() as AddressInfo).port;
    this.cacheUrl = `http://127.0.0.1:${this.port}/`;
    this.resultsUrl = this.cacheUrl;
    server.keepAliveTimeout = KEEP_ALIVE_MS;
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      void this.answer(request, response);
    });
  }

  static async start(options: { host?: string } = {}): Promise<GhaCacheServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, options.host ?? '0.0.0.0', () => resolve());
    });
    return new GhaCacheServer(server);
  }

  entries(): GhaCacheEntry[] {
    return this.store
      .entries()
      .map(({ key, version, scope, size, api }) => ({ key, version, scope, size, api }));
  }

  removeEntries(keyPrefix: string): number {
    return this.store.remove(keyPrefix);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      await this.route(request, response);
    } catch (error) {
      // A client gone mid-body (or cut off by stop()) has nobody left to answer.
      if (response.headersSent || request.destroyed) response.destroy();
      else sendJson(response, 500, { message: String(error) });
    }
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://unused');
    // Signed URLs carry their own authority, as Azure SAS URLs do; the APIs want the runtime token.
    if (url.pathname.startsWith(BLOB_PREFIX)) return this.answerBlob(request, response, url);
    const host = request.headers.host ?? `127.0.0.1:${this.port}`;
    const authorized = request.headers.authorization === `Bearer ${this.token}`;
    const unauthorized = 'missing or wrong runtime token';
    if (url.pathname.startsWith(V1_PREFIX)) {
      if (!authorized) return sendV1Error(response, 401, 'UnauthorizedRequestException', unauthorized);
      return this.answerV1(request, response, url, host);
    }
    if (url.pathname.startsWith(TWIRP_PREFIX)) {
      if (!authorized) return sendTwirpError(response, 'unauthenticated', unauthorized);
      return this.answerTwirp(request, response, url.pathname.slice(TWIRP_PREFIX.length), host);
    }
    sendJson(response, 404, { message: `no route for ${url.pathname}` });
  }

  private async answerV1(request: IncomingMessage, response: ServerResponse, url: URL, host: string) {
    const route = url.pathname.slice(V1_PREFIX.length);
    const cacheId = Number(/^caches\/(\d+)$/.exec(route)?.[1]);
    if (request.method === 'GET' && route === 'cache') return this.v1Lookup(response, url, host);
    if (request.method === 'POST' && route === 'caches') {
      return this.v1Reserve(response, await readJson(request));
    }
    if (request.method === 'PATCH' && cacheId) return this.v1UploadChunk(request, response, cacheId);
    if (request.method === 'POST' && cacheId) {
      return this.v1Commit(response, cacheId, await readJson(request));
    }
    sendV1Error(response, 404, 'NotFoundException', `no route for ${request.method} ${url.pathname}`);
  }

  private v1Lookup(response: ServerResponse, url: URL, host: string): void {
    const keys = (url.searchParams.get('keys') ?? '').split(',').filter((key) => key !== '');
    const version = url.searchParams.get('version');
    if (keys.length === 0 || !version) {
      return sendV1Error(response, 400, 'ArgumentException', 'keys and version are required');
    }
    const entry = this.store.lookup(keys, version);
    // The client reads an empty body as a miss.
    if (!entry) return void response.writeHead(204).end();
    sendJson(response, 200, {
      cacheKey: entry.key,
      scope: entry.scope,
      cacheVersion: entry.version,
      creationTime: entry.committedAt.toISOString(),
      archiveLocation: this.blobUrl(host, entry.id, 'r'),
    });
  }

  private v1Reserve(response: ServerResponse, body: Record<string, unknown>): void {
    const key = stringField(body, 'key');
    const version = stringField(body, 'version');
    if (!key || !version) {
      return sendV1Error(response, 400, 'ArgumentException', 'key and version are required');
    }
    const reservation = this.store.reserve(key, version, 1);
    if (!reservation) {
      // go-actions-cache reads this typeKey as os.ErrExist: BuildKit skips the blob, SaveMutable tries the next.
      const message = `Cache already exists. Scope: ${SCOPE}, Key: ${key}, Version: ${version}`;
      return sendV1Error(response, 409, 'ArtifactCacheItemAlreadyExistsException', message);
    }
    sendJson(response, 201, { cacheId: reservation.id });
  }

  private async v1UploadChunk(request: IncomingMessage, response: ServerResponse, id: number) {
    const contentRange = request.headers['content-range'];
    const range = parseContentRange(contentRange);
    const data = await readBody(request);
    const reservation = this.store.reservation(id, 1);
    if (!reservation) {
      return sendV1Error(response, 404, 'NotFoundException', `no cache ${id} is being uploaded`);
    }
    if (!range || range.end - range.start + 1 !== data.length) {
      const message = `Content-Range ${contentRange} does not frame ${data.length} bytes`;
      return sendV1Error(response, 400, 'ArgumentException', message);
    }
    reservation.chunks.push({ start: range.start, data });
    response.writeHead(204).end();
  }

  private v1Commit(response: ServerResponse, id: number, body: Record<string, unknown>): void {
    const reservation = this.store.reservation(id, 1);
    const size = integerField(body, 'size');
    if (!reservation) {
      return sendV1Error(response, 404, 'NotFoundException', `no cache ${id} is being uploaded`);
    }
    if (size === undefined) return sendV1Error(response, 400, 'ArgumentException', 'size is required');
    const blob = assembleChunks(reservation.chunks, size);
    if (typeof blob === 'string') {
      return sendV1Error(response, 400, 'ArgumentException', `cache ${id}: ${blob}`);
    }
    this.store.commit(reservation, blob);
    response.writeHead(204).end();
  }

  private async answerTwirp(
    request: IncomingMessage,
    response: ServerResponse,
    method: string,
    host: string,
  ) {
    const body = await readJson(request);
    if (request.method !== 'POST' || !TWIRP_METHODS.has(method)) {
      return sendTwirpError(response, 'bad_route', `no route for ${request.method} ${method}`);
    }
    const key = stringField(body, 'key');
    const version = stringField(body, 'version');
    if (!key || !version) return sendTwirpError(response, 'invalid_argument', 'key and version are required');
    if (method === 'CreateCacheEntry') return this.createCacheEntry(response, key, version, host);
    if (method === 'FinalizeCacheEntryUpload') {
      return this.finalizeCacheEntryUpload(response, key, version, integerField(body, 'size_bytes'));
    }
    const restoreKeys = Array.isArray(body.restore_keys) ? body.restore_keys : [];
    const keys = [key, ...restoreKeys.filter((restoreKey) => typeof restoreKey === 'string')];
    this.getCacheEntryDownloadUrl(response, keys, version, host);
  }

  private createCacheEntry(response: ServerResponse, key: string, version: string, host: string): void {
    const reservation = this.store.reserve(key, version, 2);
    if (!reservation) return sendTwirpError(response, 'already_exists', `cache entry ${key} already exists`);
    sendJson(response, 200, { ok: true, signed_upload_url: this.blobUrl(host, reservation.id, 'cw') });
  }

  private finalizeCacheEntryUpload(response: ServerResponse, key: string, version: string, size?: number) {
    const reservation = this.store.reservationFor(key, version);
    if (!reservation) return sendTwirpError(response, 'not_found', `no cache entry ${key} is being uploaded`);
    if (!reservation.blob) {
      return sendTwirpError(response, 'failed_precondition', `nothing was uploaded for ${key}`);
    }
    if (reservation.blob.length !== size) {
      const message = `${key}: ${reservation.blob.length} bytes uploaded, size_bytes says ${size}`;
      return sendTwirpError(response, 'invalid_argument', message);
    }
    this.store.commit(reservation, reservation.blob);
    // An int64, which protobuf JSON spells as a string (and the Go client reads as one).
    sendJson(response, 200, { ok: true, entry_id: String(reservation.id) });
  }

  private getCacheEntryDownloadUrl(response: ServerResponse, keys: string[], version: string, host: string) {
    const entry = this.store.lookup(keys, version);
    // A miss is ok:false, not an error: the Go client fails a load on any error status, not_found included.
    if (!entry) return sendJson(response, 200, { ok: false, signed_download_url: '', matched_key: '' });
    const signedDownloadUrl = this.blobUrl(host, entry.id, 'r');
    sendJson(response, 200, { ok: true, signed_download_url: signedDownloadUrl, matched_key: entry.key });
  }

  private async answerBlob(request: IncomingMessage, response: ServerResponse, url: URL) {
    const id = Number(url.pathname.slice(BLOB_PREFIX.length));
    const permission = url.searchParams.get('sp');
    const signature = url.searchParams.get('sig');
    if ((permission !== 'r' && permission !== 'cw') || signature !== this.signature(id, permission)) {
      return sendAzureError(response, 403, 'AuthenticationFailed', 'The signature does not match.');
    }
    const reading = request.method === 'GET' || request.method === 'HEAD';
    if (permission === 'r' && reading) return this.getBlob(request, response, id);
    if (permission === 'cw' && request.method === 'PUT') {
      return this.putBlob(request, response, id, url.searchParams);
    }
    const message = `sp=${permission} does not allow ${request.method}`;
    sendAzureError(response, 403, 'AuthorizationPermissionMismatch', message);
  }

  private getBlob(request: IncomingMessage, response: ServerResponse, id: number): void {
    const entry = this.store.entry(id);
    if (!entry) return sendAzureError(response, 404, 'BlobNotFound', 'The specified blob does not exist.');
    sendBlob(request, response, { data: entry.data, etag: etag(id), lastModified: entry.committedAt });
  }

  private async putBlob(
    request: IncomingMessage,
    response: ServerResponse,
    id: number,
    query: URLSearchParams,
  ) {
    const reservation = this.store.reservation(id, 2);
    if (!reservation) {
      return sendAzureError(response, 404, 'BlobNotFound', 'The entry is not being uploaded.');
    }
    await putBlob(request, response, query, reservation, etag(id));
  }

  private blobUrl(host: string, id: number, permission: Permission): string {
    return `http://${host}${BLOB_PREFIX}${id}?sp=${permission}&sig=${this.signature(id, permission)}`;
  }

  private signature(id: number, permission: Permission): string {
    return createHmac('sha256', this.urlSecret).update(`${permission}:${id}`).digest('hex');
  }
}

/** The variables a runner gives a JavaScript action for the cache service, by the API the release speaks. */
export function ghaEnvironment(server: GhaCacheServer, release: string): Record<string, string> {
  return semver.gte(release, GHA_API_SINCE[2])
    ? {
        ACTIONS_RUNTIME_TOKEN: server.token,
        ACTIONS_RESULTS_URL: server.resultsUrl,
        ACTIONS_CACHE_SERVICE_V2: 'true',
      }
    : { ACTIONS_RUNTIME_TOKEN: server.token, ACTIONS_CACHE_URL: server.cacheUrl };
}
