import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './free-port.js';
import { testBed } from './testbed.js';
import { AzblobStore } from '../../src/stores/azblob-store.js';

/** Azurite's one account and its documented key (the same in every Azurite). */
const ACCOUNT = 'devstoreaccount1';
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/**
 * Azurite's blob server as a process of the test, on all interfaces (buildkitd reaches it as
 * host.docker.internal), checking every request's Shared Key signature; its data in a folder of its own,
 * removed by `stop`, which kills it as a server that dies mid-run.
 */
export class AzuriteServer {
  private constructor(
    private readonly process: ChildProcess,
    private readonly dir: string,
    readonly accountUrl: string,
    readonly container: string,
  ) {}

  static async start(container = 'lost-layer-test'): Promise<AzuriteServer> {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'azurite-'));
    // --skipApiVersionCheck: BuildKit's SDK may send a newer x-ms-version than this Azurite knows.
    const child = spawn(
      testBed().azblobServer,
      [
        '--blobHost',
        '0.0.0.0',
        '--blobPort',
        String(port),
        '--location',
        dir,
        '--silent',
        '--skipApiVersionCheck',
      ],
      { stdio: 'ignore' },
    );
    const server = new AzuriteServer(child, dir, `http://127.0.0.1:${port}/${ACCOUNT}`, container);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const problem = await server.store().problem(true);
      if (problem === undefined) return server;
      if (Date.now() > deadline || child.exitCode !== null) {
        server.stop();
        throw new Error(`Azurite did not answer on port ${port}: ${problem}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** The inputs that point a run at this account. */
  inputs(): Record<string, string> {
    return {
      'cache-azblob-account-url': this.accountUrl,
      'cache-azblob-secret-access-key': KEY,
      'cache-azblob-container': this.container,
    };
  }

  store(): AzblobStore {
    return new AzblobStore({
      accountUrl: this.accountUrl,
      accountName: ACCOUNT,
      secretAccessKey: KEY,
      container: this.container,
    });
  }

  stop(): void {
    this.process.kill('SIGKILL');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
