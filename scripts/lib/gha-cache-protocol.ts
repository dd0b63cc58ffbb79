import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A committed cache entry as tests see it; `api` says which protocol saved it. */
export interface GhaCacheEntry {
  key: string;
  version: string;
  scope: string;
  size: number;
  api: 1 | 2;
}

/** What a blob's signed upload URL collects: staged blocks, and the blob once put whole or by block list. */
export interface BlobUpload {
  blocks: Map<string, Buffer>;
  blob?: Buffer;
}

/** A key reserved and being uploaded: v1 PATCHes chunks, v2 PUTs a blob or blocks to its signed URL. */
export interface Reservation extends BlobUpload {
  id: number;
  key: string;
  version: string;
  api: 1 | 2;
  chunks: Chunk[];
}

export interface StoredEntry extends GhaCacheEntry {
  id: number;
  data: Buffer;
  committedAt: Date;
}

/** A byte run a v1 client PATCHed into a reserved cache, in whatever order its workers sent them. */
export interface Chunk {
  start: number;
  data: Buffer;
}

const base64Url = (text: string) => Buffer.from(text).toString('base64url');

/**
 * A runtime token as the runner hands out: go-actions-cache decodes it (without checking the signature) and
 * refuses it unless it has `exp`, `nbf` and an `ac` claim, a JSON string listing scopes and permissions
 * (1 read, 2 write). BuildKit names its index key after the scope it may write to.
 */
export function runtimeToken(scope: string): string {
  const seconds = Math.floor(Date.now() / 1000);
  const header = { typ: 'JWT', alg: 'HS256' };
  const claims = {
    ac: JSON.stringify([{ Scope: scope, Permission: 3 }]),
    // A day either side: buildkitd's clock in a Docker VM may drift from the host's.
    nbf: seconds - 86_400,
    exp: seconds + 86_400,
    iat: seconds,
    iss: 'vstoken.actions.githubusercontent.com',
  };
  const unsigned = `${base64Url(JSON.stringify(header))}.${base64Url(JSON.stringify(claims))}`;
  const signature = createHmac('sha256', randomBytes(32)).update(unsigned).digest('base64url');
  return `${unsigned}.${signature}`;
}

/**
 * The entry a lookup restores, as GitHub matches keys: for each key in order, an exact match, else the
 * newest entry whose key starts with it (go-actions-cache's SaveMutable finds the latest `index#N` this way).
 * `entries` are in the order they were committed.
 */
function matchEntry<T extends { key: string }>(entries: T[], keys: string[]): T | undefined {
  for (const key of keys) {
    const exact = entries.find((entry) => entry.key === key);
    if (exact) return exact;
    const newestPrefixed = entries.filter((entry) => entry.key.startsWith(key)).at(-1);
    if (newestPrefixed) return newestPrefixed;
  }
  return undefined;
}

/** Entries in memory, shared by both APIs (GitHub serves one store to either). */
export class CacheStore {
  private readonly reservations = new Map<number, Reservation>();
  /** In commit order: the order "newest" means to a prefix lookup. */
  private readonly committed = new Map<number, StoredEntry>();
  private nextId = 1;

  constructor(private readonly scope: string) {}

  /** A new upload, unless the key and version are committed or being uploaded already (GitHub locks them). */
  reserve(key: string, version: string, api: 1 | 2): Reservation | undefined {
    const existing = [...this.reservations.values(), ...this.committed.values()];
    if (existing.some((entry) => entry.key === key && entry.version === version)) return undefined;
    const reservation = { id: this.nextId++, key, version, api, chunks: [], blocks: new Map() };
    this.reservations.set(reservation.id, reservation);
    return reservation;
  }

  reservation(id: number, api: 1 | 2): Reservation | undefined {
    const reservation = this.reservations.get(id);
    return reservation?.api === api ? reservation : undefined;
  }

  /** v2 finalizes by key and version, not by an id. */
  reservationFor(key: string, version: string): Reservation | undefined {
    return [...this.reservations.values()].find(
      (reservation) => reservation.api === 2 && reservation.key === key && reservation.version === version,
    );
  }

  commit(reservation: Reservation, data: Buffer): void {
    this.reservations.delete(reservation.id);
    const { id, key, version, api } = reservation;
    const entry = {
      id,
      key,
      version,
      api,
      scope: this.scope,
      size: data.length,
      data,
      committedAt: new Date(),
    };
    this.committed.set(id, entry);
  }

  entry(id: number): StoredEntry | undefined {
    return this.committed.get(id);
  }

  entries(): StoredEntry[] {
    return [...this.committed.values()];
  }

  remove(keyPrefix: string): number {
    const removed = this.entries().filter((entry) => entry.key.startsWith(keyPrefix));
    for (const entry of removed) this.committed.delete(entry.id);
    return removed.length;
  }

  /** Entries of other versions never match, as on GitHub (where the version hashes paths and compression). */
  lookup(keys: string[], version: string): StoredEntry | undefined {
    return matchEntry(
      this.entries().filter((entry) => entry.version === version),
      keys,
    );
  }
}

/** `bytes 0-1023/*`, the Content-Range of a v1 chunk upload. */
export function parseContentRange(header: string | undefined): { start: number; end: number } | undefined {
  const match = /^bytes (\d+)-(\d+)\/(?:\*|\d+)$/.exec(header ?? '');
  if (!match) return undefined;
  return { start: Number(match[1]), end: Number(match[2]) };
}

/**
 * A `bytes=start-[end]` Range (v1 download) or x-ms-range (Azure SDK): undefined for the whole blob (an
 * absent or malformed header, as HTTP says to ignore one), 'unsatisfiable' for a start past the end.
 */
export function parseByteRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d+)-(\d*)$/.exec(header ?? '');
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = match[2] ? Math.min(Number(match[2]), size - 1) : size - 1;
  return start > end ? 'unsatisfiable' : { start, end };
}

/** The block IDs, in order, of a Put Block List body (`<BlockList><Latest>id</Latest>…</BlockList>`). */
export function parseBlockList(xml: string): string[] {
  return [...xml.matchAll(/<(Latest|Uncommitted|Committed)>([^<]*)<\/\1>/g)].map((match) => match[2] ?? '');
}

/** The blob the chunks make, or why they don't make one of exactly `size` bytes. */
export function assembleChunks(chunks: Chunk[], size: number): Buffer | string {
  const blob = Buffer.alloc(size);
  let covered = 0;
  for (const chunk of [...chunks].sort((a, b) => a.start - b.start)) {
    if (chunk.start > covered) return `no chunk holds bytes ${covered}-${chunk.start - 1}`;
    if (chunk.start + chunk.data.length > size) return `the chunk at ${chunk.start} ends past size ${size}`;
    chunk.data.copy(blob, chunk.start);
    covered = Math.max(covered, chunk.start + chunk.data.length);
  }
  return covered < size ? `no chunk holds bytes ${covered}-${size - 1}` : blob;
}

export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** A JSON request body as an object, empty when it is not one (its fields then read as missing). */
export async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  try {
    const parsed: unknown = JSON.parse((await readBody(request)).toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function stringField(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A number field; protobuf JSON may spell an int64 as a string. */
export function integerField(body: Record<string, unknown>, name: string): number | undefined {
  const value = typeof body[name] === 'string' ? Number(body[name]) : body[name];
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(text);
}

/** A v1 error as the service words it: go-actions-cache reads `typeKey` to tell an existing key (ErrExist). */
export function sendV1Error(
  response: ServerResponse,
  status: number,
  typeKey: string,
  message: string,
): void {
  sendJson(response, status, { message, typeKey, typeName: typeKey, errorCode: 0 });
}

const TWIRP_STATUS = {
  bad_route: 404,
  not_found: 404,
  already_exists: 409,
  invalid_argument: 400,
  failed_precondition: 412,
  unauthenticated: 401,
} as const;

/** A twirp error: go-actions-cache maps code `already_exists` to ErrExist, as it does v1's typeKey. */
export function sendTwirpError(response: ServerResponse, code: keyof typeof TWIRP_STATUS, msg: string): void {
  sendJson(response, TWIRP_STATUS[code], { code, msg });
}

/** Headers every Azure Blob answer has; the Go client dereferences x-ms-request-id after an upload. */
export function azureHeaders(extra: Record<string, string | number> = {}): Record<string, string | number> {
  return { 'x-ms-request-id': randomUUID(), 'x-ms-version': '2024-11-04', ...extra };
}

/** An Azure Blob error: azcore reads its code from x-ms-error-code, people from the XML. */
export function sendAzureError(
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
): void {
  const xml = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  response.writeHead(
    status,
    azureHeaders({
      'x-ms-error-code': code,
      'Content-Type': 'application/xml',
      'Content-Length': Buffer.byteLength(xml),
    }),
  );
  response.end(xml);
}

/** Get Blob, whole or the Range / x-ms-range asked for (the Azure SDK sends x-ms-range, the v1 client Range). */
export function sendBlob(
  request: IncomingMessage,
  response: ServerResponse,
  blob: { data: Buffer; etag: string; lastModified: Date },
): void {
  const size = blob.data.length;
  const rangeHeader = request.headers['x-ms-range'] ?? request.headers.range;
  const range = parseByteRange(typeof rangeHeader === 'string' ? rangeHeader : undefined, size);
  if (range === 'unsatisfiable') {
    return sendAzureError(
      response,
      416,
      'InvalidRange',
      'The range specified is invalid for the current size.',
    );
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  const headers = azureHeaders({
    'Content-Type': 'application/octet-stream',
    'Content-Length': end - start + 1,
    'Accept-Ranges': 'bytes',
    ETag: blob.etag,
    'Last-Modified': blob.lastModified.toUTCString(),
    'x-ms-blob-type': 'BlockBlob',
  });
  if (range) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  response.writeHead(range ? 206 : 200, headers);
  response.end(blob.data.subarray(start, end + 1));
}

/**
 * Put Blob (one shot), Put Block (staged) and Put Block List (staged blocks in order): all that the Azure
 * SDK's UploadStream sends. Azure answers each with 201, which the SDK insists on.
 */
export async function putBlob(
  request: IncomingMessage,
  response: ServerResponse,
  query: URLSearchParams,
  upload: BlobUpload,
  etag: string,
): Promise<void> {
  const body = await readBody(request);
  const comp = query.get('comp');
  const blockId = query.get('blockid');
  if (comp === 'block' && blockId) {
    upload.blocks.set(blockId, body);
  } else if (comp === 'blocklist') {
    const blocks = parseBlockList(body.toString('utf8')).map((listed) => upload.blocks.get(listed));
    const present = blocks.filter((block) => block !== undefined);
    if (present.length !== blocks.length) {
      return sendAzureError(response, 400, 'InvalidBlockList', 'The block list names a block never put.');
    }
    upload.blob = Buffer.concat(present);
  } else if (comp === null && request.headers['x-ms-blob-type'] === 'BlockBlob') {
    upload.blob = body;
  } else {
    return sendAzureError(response, 400, 'InvalidQueryParameterValue', 'Not a Put Blob, Put Block or list.');
  }
  response.writeHead(201, azureHeaders({ ETag: etag, 'Last-Modified': new Date().toUTCString() }));
  response.end();
}
