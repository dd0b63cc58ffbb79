/*
 * The few S3 calls this process makes itself: read a cache's manifest and blobs (the cause), list and delete
 * the objects a run wrote below its own prefix (cleanup), and ask whether the bucket answers (set-up).
 * Requests are signed with SigV4 by aws4fetch; BuildKit itself talks to the bucket from its container.
 */
import { AwsClient } from 'aws4fetch';
import { XMLParser } from 'fast-xml-parser';

/** Credentials of an S3 bucket. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** '' : none (long-lived keys). */
  sessionToken: string;
}

/** Where an S3 cache is: its bucket, and the key prefix and name of its manifest. */
export interface S3Place {
  /** '' : AWS's own endpoint for the region. */
  endpointUrl: string;
  region: string;
  bucket: string;
  usePathStyle: boolean;
  /** The key prefix of the cache's manifests and blobs. */
  prefix: string;
  name: string;
  /** Kept in memory only: a place is never written to a report or a log whole. */
  credentials: S3Credentials;
}

/** A bucket that does not answer in this time is an answer: set-up and cleanup must not hang. */
const REQUEST_TIMEOUT_MS = 60_000;

export class S3StoreError extends Error {
  override name = 'S3StoreError';
}

type Bucket = Pick<S3Place, 'endpointUrl' | 'region' | 'bucket' | 'usePathStyle' | 'credentials'>;

export class S3Store {
  private readonly client: AwsClient;

  constructor(private readonly bucket: Bucket) {
    const { credentials } = bucket;
    this.client = new AwsClient({
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
      service: 's3',
      region: bucket.region,
      retries: 2,
    });
  }

  /** The bucket's own URL, path style or virtual-hosted as BuildKit addresses it. */
  private url(key: string, query: Record<string, string> = {}): string {
    const { endpointUrl, region, bucket, usePathStyle } = this.bucket;
    const endpoint = new URL(endpointUrl || `https://s3.${region}.amazonaws.com`);
    const base = usePathStyle
      ? `${endpoint.origin}/${bucket}/`
      : `${endpoint.protocol}//${bucket}.${endpoint.host}/`;
    const url = new URL(base + key.split('/').map(encodeURIComponent).join('/'));
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    return url.toString();
  }

  private async request(method: string, url: string): Promise<Response> {
    const response = await this.client
      .fetch(url, { method, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
      .catch((error: unknown) => {
        throw new S3StoreError(`${method} ${url}: ${(error as Error).message}`);
      });
    return response;
  }

  /** An object's bytes; undefined when there is no such key. */
  async get(key: string): Promise<Buffer | undefined> {
    const url = this.url(key);
    const response = await this.request('GET', url);
    if (response.status === 404) return undefined;
    if (!response.ok) throw new S3StoreError(`GET ${url}: HTTP ${response.status}`);
    return Buffer.from(await response.arrayBuffer());
  }

  /**
   * Why the bucket cannot be used with these credentials below `prefix`, or undefined when it answers. The
   * listing is of that prefix: a policy may grant s3:ListBucket only there.
   */
  async problem(prefix: string): Promise<string | undefined> {
    const url = this.url('', { 'list-type': '2', 'max-keys': '1', prefix });
    try {
      const response = await this.request('GET', url);
      if (response.ok) return undefined;
      const code = /<Code>([^<]*)<\/Code>/.exec(await response.text())?.[1];
      return `bucket ${this.bucket.bucket} answers HTTP ${response.status}${code ? ` (${code})` : ''}`;
    } catch (error) {
      return (error as Error).message;
    }
  }

  /** Every key below a prefix. */
  async keys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    const parser = new XMLParser({ isArray: (name) => name === 'Contents' });
    let token: string | undefined;
    do {
      const url = this.url('', {
        'list-type': '2',
        prefix,
        ...(token ? { 'continuation-token': token } : {}),
      });
      const response = await this.request('GET', url);
      if (!response.ok)
        throw new S3StoreError(`list ${prefix} in ${this.bucket.bucket}: HTTP ${response.status}`);
      const listing = parser.parse(await response.text()) as {
        ListBucketResult?: {
          Contents?: { Key?: unknown }[];
          IsTruncated?: unknown;
          NextContinuationToken?: unknown;
        };
      };
      const result = listing.ListBucketResult ?? {};
      for (const item of result.Contents ?? []) if (item.Key !== undefined) keys.push(String(item.Key));
      token = String(result.IsTruncated) === 'true' ? String(result.NextContinuationToken) : undefined;
    } while (token);
    return keys;
  }

  /** Removes every object below a prefix; returns the keys that are still there. */
  async removeAll(prefix: string): Promise<string[]> {
    for (const key of await this.keys(prefix)) {
      const url = this.url(key);
      const response = await this.request('DELETE', url);
      if (!response.ok && response.status !== 404) {
        throw new S3StoreError(`DELETE ${url}: HTTP ${response.status}`);
      }
    }
    return this.keys(prefix);
  }
}
