import { type ChildProcess, spawn } from 'node:child_process';
import { AwsClient } from 'aws4fetch';
import { freePort } from './free-port.js';
import { testBed } from './testbed.js';
import type { S3Credentials } from '../../src/stores/s3-store.js';
import { S3Store } from '../../src/stores/s3-store.js';

const REGION = 'us-east-1';
/** moto answers this many requests unsigned, then checks every signature against its IAM users. */
const UNSIGNED_SET_UP_REQUESTS = 3;

/** One IAM call to moto, in its unsigned window. */
async function iam(endpoint: string, action: string, parameters: Record<string, string>): Promise<string> {
  const response = await fetch(endpoint, {
    method: 'POST',
    // moto routes a request to IAM by the service in its (unchecked) credential scope.
    headers: { Authorization: 'AWS4-HMAC-SHA256 Credential=setup/20260101/us-east-1/iam/aws4_request' },
    body: new URLSearchParams({ Action: action, Version: '2010-05-08', ...parameters }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`moto IAM ${action}: HTTP ${response.status} ${text.slice(0, 200)}`);
  return text;
}

/**
 * moto's S3 server as a process of the test, on all interfaces (buildkitd reaches it from its container as
 * host.docker.internal), checking every request's signature like AWS: a user with a key and an s3:* policy,
 * one bucket. `stop` kills it, as a server that dies mid-run.
 */
export class S3Server {
  private constructor(
    private readonly process: ChildProcess,
    readonly endpoint: string,
    readonly bucket: string,
    readonly credentials: S3Credentials,
  ) {}

  static async start(bucket = 'lost-layer-test'): Promise<S3Server> {
    const port = await freePort();
    const child = spawn(testBed().s3Server, ['-H', '0.0.0.0', '-p', String(port)], {
      stdio: 'ignore',
      env: { ...process.env, INITIAL_NO_AUTH_ACTION_COUNT: String(UNSIGNED_SET_UP_REQUESTS) },
    });
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      await answering(endpoint, child);
      await iam(endpoint, 'CreateUser', { UserName: 'ci' });
      const key = await iam(endpoint, 'CreateAccessKey', { UserName: 'ci' });
      const field = (name: string) => new RegExp(`<${name}>([^<]+)</${name}>`).exec(key)?.[1] ?? '';
      const credentials = {
        accessKeyId: field('AccessKeyId'),
        secretAccessKey: field('SecretAccessKey'),
        sessionToken: '',
      };
      await iam(endpoint, 'PutUserPolicy', {
        UserName: 'ci',
        PolicyName: 'cache',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
        }),
      });
      const client = new AwsClient({ ...credentials, service: 's3', region: REGION });
      const made = await client.fetch(`${endpoint}/${bucket}`, { method: 'PUT' });
      if (!made.ok) throw new Error(`moto: create bucket ${bucket}: HTTP ${made.status}`);
      return new S3Server(child, endpoint, bucket, credentials);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  /** The inputs that point a run at this bucket. */
  inputs(): Record<string, string> {
    return {
      'cache-s3-bucket': this.bucket,
      'cache-s3-region': REGION,
      'cache-s3-endpoint-url': this.endpoint,
      'cache-s3-use-path-style': 'true',
      'cache-s3-access-key-id': this.credentials.accessKeyId,
      'cache-s3-secret-access-key': this.credentials.secretAccessKey,
    };
  }

  /** Every key in the bucket (below a prefix). */
  keys(prefix = ''): Promise<string[]> {
    return this.store().keys(prefix);
  }

  store(): S3Store {
    return new S3Store({
      endpointUrl: this.endpoint,
      region: REGION,
      bucket: this.bucket,
      usePathStyle: true,
      credentials: this.credentials,
    });
  }

  stop(): void {
    this.process.kill('SIGKILL');
  }
}

/** Waits until the server answers at all (any status): moto takes a few seconds to start. */
async function answering(endpoint: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  // A HEAD of / is not one of the unsigned requests moto counts: only the IAM calls spend them.
  while (
    !(await fetch(`${endpoint}/moto-api/`, { method: 'GET' }).then(
      () => true,
      () => false,
    ))
  ) {
    if (Date.now() > deadline || child.exitCode !== null) {
      throw new Error(`moto's S3 server did not answer on ${endpoint}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
