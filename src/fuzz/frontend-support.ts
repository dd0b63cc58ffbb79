import { CONSTRUCTS, type Construct } from './case-model.js';

/**
 * The first release (major, minor) whose BUILT-IN Dockerfile frontend has each construct with no
 * `# syntax=` line (buildctl --frontend dockerfile.v0, buildkitd built without extra Go build tags, as the
 * release images and the test bed build it). Read in moby/buildkit's sources:
 * - RUN --mount (cache, bind): frontend/dockerfile/instructions/commands_runmount.go and
 *   dockerfile2llb/convert_runmount.go begin with `// +build dfrunmount` up to v0.7.2 and have no build tag
 *   from v0.8.0 (commit 906e34510 "dockerfile: update run mounts to stable channel").
 * - COPY --chmod: instructions/parse.go parseCopy has no `flChmod := req.flags.AddString("chmod", "")` in
 *   v0.7.2 and has it from v0.8.0 (commit b7fd38223 "add chmod in COPY and ADD command"); v0.8's
 *   dockerfile2llb/convert.go applies it through the file op, which every daemon of these releases has.
 * - COPY --link: parse.go has `flLink := req.flags.AddBool("link", false)` from v0.10.0 (commit 6f6454324),
 *   not in v0.9.3; v0.10.0's convert.go makes it a merge op when the daemon has CapMergeOp.
 * Everything else (stages, COPY --from and --chown, ADD, WORKDIR, ENV, ARG, LABEL, USER) parses in v0.7.0,
 * the oldest release the check supports.
 */
const FIRST_RELEASE: Readonly<Partial<Record<Construct, readonly [number, number]>>> = {
  'run-mount-cache': [0, 8],
  'run-mount-bind': [0, 8],
  'copy-chmod': [0, 8],
  'copy-link': [0, 10],
};

/**
 * The constructs the frontend built into `buildkitVersion` supports ("v0.9.0", "0.34.2", "v0.10.0-rc1");
 * a version that names no release ("latest", "master", a commit) is taken as the newest: all of them.
 */
export function constructsFor(buildkitVersion: string): Construct[] {
  const match = /^v?(\d+)\.(\d+)\.\d+/.exec(buildkitVersion.trim());
  if (!match) return [...CONSTRUCTS];
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return CONSTRUCTS.filter((construct) => {
    const first = FIRST_RELEASE[construct];
    if (!first) return true;
    return major > first[0] || (major === first[0] && minor >= first[1]);
  });
}
