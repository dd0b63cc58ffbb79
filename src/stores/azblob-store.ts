/*
 * The few Azure Blob Storage calls this process makes itself, through Azure's own SDK with the account key:
 * read a cache's manifest (the cause), list and delete the blobs a run wrote below its prefix (cleanup),
 * ask whether the container answers (set-up). BuildKit itself talks to the account from its container.
 */
import { ContainerClient, RestError, StorageSharedKeyCredential } from '@azure/storage-blob';

/** Where an azblob cache is: its container, and the blob-name prefix and name of its manifest. */
export interface AzblobPlace {
  /** https://ACCOUNT.blob.core.windows.net, or a path-style URL whose path names the account (Azurite). */
  accountUrl: string;
  accountName: string;
  container: string;
  prefix: string;
  name: string;
  /** Kept in memory only, like every credential of a place. */
  secretAccessKey: string;
}

type Container = Pick<AzblobPlace, 'accountUrl' | 'accountName' | 'secretAccessKey' | 'container'>;

export class AzblobStore {
  private readonly client: ContainerClient;

  constructor(private readonly place: Container) {
    const credential = new StorageSharedKeyCredential(place.accountName, place.secretAccessKey);
    this.client = new ContainerClient(
      `${place.accountUrl.replace(/\/+$/, '')}/${place.container}`,
      credential,
      {
        // A server that is gone is an answer to give, not one to wait a minute for.
        retryOptions: { maxTries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 1000 },
      },
    );
  }

  /** A blob's bytes; undefined when there is no such blob (or container). */
  async get(name: string): Promise<Buffer | undefined> {
    try {
      return await this.client.getBlobClient(name).downloadToBuffer();
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  /**
   * Why the container cannot be used with this key, or undefined when it answers. A missing container is
   * fine for a run that exports: BuildKit creates it.
   */
  async problem(exports: boolean): Promise<string | undefined> {
    try {
      await this.client.getProperties();
      return undefined;
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404 && exports) return undefined;
      const code = error instanceof RestError ? ` (${error.statusCode ?? '?'} ${error.code ?? ''})` : '';
      return `container ${this.place.container}: ${(error as Error).message.split('\n')[0] ?? ''}${code}`;
    }
  }

  async names(prefix: string): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const blob of this.client.listBlobsFlat({ prefix })) names.push(blob.name);
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return [];
      throw error;
    }
    return names;
  }

  /** Removes every blob below a prefix; returns the names that are still there. */
  async removeAll(prefix: string): Promise<string[]> {
    for (const name of await this.names(prefix))
      await this.client.deleteBlob(name, { deleteSnapshots: 'include' });
    return this.names(prefix);
  }
}
