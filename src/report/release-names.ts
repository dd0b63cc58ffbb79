/*
 * Where a bisect row's release comes from: buildkitd's own version, else the image tag, else the report's
 * file name.
 */

/** A release as buildkitd reports it: v0.9.1, v0.10.0-rc1. */
export const RELEASE = /^v\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$/;
/** A release named inside a file name such as report-v0.9.1-rootless.json. */
const RELEASE_IN_NAME = /v\d+\.\d+\.\d+(?:-[0-9A-Za-z]+)*/;

/** The release a file name holds (report-v0.9.1-rootless.json → v0.9.1-rootless), if any. */
export function versionInName(source: string): string | undefined {
  return RELEASE_IN_NAME.exec(source)?.[0];
}
