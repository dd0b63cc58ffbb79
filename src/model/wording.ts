import type { LayerFacts } from './layers.js';
import type { Minimization } from './minimization.js';
import type { InstalledBuildctl } from './run-result.js';
import type { Verdict } from './verdict.js';

/* How the model is said in one line: the log, the CLI, the summary and the step's failure message. */

export function verdictLine(verdict: Verdict): string {
  switch (verdict.kind) {
    case 'reproduced':
      return `Layer lost: attempt ${verdict.failedAttempt}: ${lossText(verdict.missingPaths, verdict.lostLayers)}${
        verdict.lostCount > 1 ? ` (${verdict.lostCount} of ${verdict.attemptsRun} attempts lost a layer)` : ''
      }`;
    case 'clean':
      return `No layer lost in ${verdict.attemptsRun} attempts`;
    case 'error':
      return `No verdict: an infrastructure step failed (${verdict.cause})`;
    case 'not-run':
      return 'Cache created; no attempts were run (run-attempts: false)';
  }
}

/** "layer 2 (COPY repro.txt /) gone; repro.txt missing" */
export function lossText(missingPaths: readonly string[], lostLayers: readonly LayerFacts[]): string {
  const layers = lostLayers.map((l) => `layer ${l.position}${l.createdBy ? ` (${l.createdBy})` : ''} gone`);
  const paths = missingPaths.length > 0 ? [`${missingPaths.join(', ')} missing`] : [];
  return [...layers, ...paths].join('; ');
}

/** "sha256 ab12… verified against the GitHub release digest", or why it was not. */
export function verificationText(installed: InstalledBuildctl): string {
  return installed.verifiedBy
    ? `buildctl tarball sha256 ${installed.sha256} verified against the ${installed.verifiedBy}`
    : `buildctl tarball sha256 ${installed.sha256} NOT verified (${installed.unverifiedBecause ?? 'no digest'}); set buildctl-sha256 to check it`;
}

/** One line for the log and the CLI: what the search ended with. */
export function minimizationLine(m: Minimization): string {
  switch (m.kind) {
    case 'skipped':
      return `Minimize: ${m.reason}`;
    case 'error':
      return `Minimize: no result: an infrastructure step failed after ${m.candidatesJudged} candidates (${m.cause})`;
    case 'minimized': {
      const confirm =
        m.confirming.lost > 0
          ? `its confirming run lost a layer in ${m.confirming.lost} of ${m.confirming.attempts} attempts`
          : `its confirming run lost none in ${m.confirming.attempts} attempts (it did lose one during the search)`;
      return `Minimized: ${m.instructionsBefore} → ${m.instructionsAfter} instructions, ${m.filesBefore} → ${m.filesAfter} context files, ${m.proven ? '1-minimal' : 'NOT proven minimal (the time budget ran out)'}, ${m.candidatesJudged} candidates in ${m.seconds} s; ${confirm}: ${m.dockerfilePath}`;
    }
  }
}
