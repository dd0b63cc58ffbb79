import { after, before } from 'node:test';
import { runAction, type RunnerDirs, runnerDirs, type RunOptions } from './action-runner.js';
import { type ReleaseServer, serveReleases } from '../../scripts/lib/release-server.js';
import { bedInputs, type TestBedFacts, testBed } from '../../scripts/lib/testbed.js';

/**
 * A suite that runs the bundled action against the test bed: the bed's facts, a release server on
 * 127.0.0.1 (which also answers GitHub's release API), runner folders. Its fields are set by the
 * suite's `before` hook, so tests read them inside `it`.
 */
export class BedSuite {
  bed!: TestBedFacts;
  releases!: ReleaseServer;
  dirs!: RunnerDirs;

  /** Registers the hooks in the calling `describe`; `onClose` runs last in its `after`. */
  static open(onClose?: () => void | Promise<void>): BedSuite {
    const suite = new BedSuite();
    before(async () => {
      suite.bed = testBed();
      suite.releases = await serveReleases(suite.bed.releasesDir);
      suite.dirs = runnerDirs();
    });
    after(async () => {
      await suite.releases.close();
      await onClose?.();
    });
    return suite;
  }

  /** The inputs that point a run at a BuildKit of the bed, with more of one's own. */
  inputs(version: string, variant: 'rootful' | 'rootless', extra: Record<string, string> = {}) {
    return { ...bedInputs(this.bed, version, variant, this.releases.urlTemplate), ...extra };
  }

  act(inputs: Record<string, string>, options: RunOptions = {}, dirs: RunnerDirs = this.dirs) {
    return runAction(inputs, dirs, {
      ...options,
      env: { GITHUB_API_URL: this.releases.origin, ...options.env },
    });
  }
}
