import { ATTEMPT_CLASSES, type AttemptClass, type ClassCounts, type DifferenceClass } from './classes.js';
import type { ConfigComparison, ImageDifference, LayerChange } from './difference.js';
import type { LayerFacts } from './layers.js';
import type { Minimization } from './minimization.js';
import type { InstalledBuildctl } from './run-result.js';
import type { Verdict } from './verdict.js';

/* How the model is said in one line: the log, the CLI, the summary and the step's failure message. */

export function verdictLine(verdict: Verdict): string {
  switch (verdict.kind) {
    case 'reproduced':
      return `Layer lost: attempt ${verdict.failedAttempt}: ${lossText(verdict.missingPaths, verdict.lostLayers)}${countsText(verdict.classes, verdict.attemptsRun)}`;
    case 'content-differs':
    case 'config-differs':
      return `${verdict.kind === 'content-differs' ? 'Content differs' : 'Config differs'} from the reference: attempt ${verdict.firstAttempt}: ${differenceText(verdict.kind, verdict.difference)}${countsText(verdict.classes, verdict.attemptsRun)}`;
    case 'clean':
      return `No difference in ${verdict.attemptsRun} attempts: every image equals the reference`;
    case 'error':
      return `No verdict: an infrastructure step failed (${verdict.cause})`;
    case 'not-run':
      return 'Cache created; no attempts were run (run-attempts: false)';
  }
}

/** The words of each class, as lists and counts say them. */
export const CLASS_WORDS: Readonly<Record<AttemptClass, string>> = {
  'lost-layer': 'lost a layer',
  'content-differs': 'content differs',
  'config-differs': 'config differs',
  intact: 'intact',
};

/** " (of 40 attempts: 3 lost a layer, 37 config differs)", when more than one attempt ran. */
function countsText(classes: ClassCounts, attemptsRun: number): string {
  if (attemptsRun < 2) return '';
  const parts = ATTEMPT_CLASSES.filter((c) => classes[c] > 0).map((c) => `${classes[c]} ${CLASS_WORDS[c]}`);
  return ` (of ${attemptsRun} attempts: ${parts.join(', ')})`;
}

/** How one attempt's image differs, in one line, as its class is told. */
export function differenceText(kind: DifferenceClass, difference: ImageDifference): string {
  switch (kind) {
    case 'lost-layer':
      return lossText(difference.missingPaths, difference.lostLayers);
    case 'content-differs':
      return [...difference.layerChanges.map(layerChangeText), filesText(difference)]
        .filter((t) => t !== '')
        .join('; ');
    case 'config-differs':
      return listed(
        difference.config.map((c) => `${c.field}: ${c.reference || '(none)'} → ${c.attempt || '(none)'}`),
        3,
      );
  }
}

/** "layer 2 (COPY repro.txt /) sha256:ab12… replaced by sha256:cd34…", "extra layer …", "layer … left out". */
function layerChangeText(change: LayerChange): string {
  const name = (l: LayerFacts) => `layer ${l.position}${l.createdBy ? ` (${l.createdBy})` : ''}`;
  const short = (l: LayerFacts) => l.diffId.slice(0, 19);
  if (change.reference && change.attempt)
    return `${name(change.reference)} ${short(change.reference)} replaced by ${short(change.attempt)}`;
  if (change.reference) return `${name(change.reference)} left out`;
  if (change.attempt) return `extra layer ${short(change.attempt)} at place ${change.place}`;
  return '';
}

function filesText(difference: ImageDifference): string {
  const paths = difference.files.map(
    (f) => `${f.path} ${f.change === 'missing' || f.change === 'extra' ? f.change : `${f.change} differs`}`,
  );
  return listed(paths, 3, paths.length + difference.filesOmitted);
}

/** The first few of a list, and how many more. */
function listed(items: readonly string[], shown: number, total = items.length): string {
  const more = total - Math.min(shown, items.length);
  return `${items.slice(0, shown).join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
}

/** "layer 2 (COPY repro.txt /) gone; repro.txt missing" */
export function lossText(missingPaths: readonly string[], lostLayers: readonly LayerFacts[]): string {
  const layers = lostLayers.map((l) => `layer ${l.position}${l.createdBy ? ` (${l.createdBy})` : ''} gone`);
  const paths = missingPaths.length > 0 ? [`${missingPaths.join(', ')} missing`] : [];
  return [...layers, ...paths].join('; ');
}

/** Whether the attempts' config and history were held to the reference's, in a sentence. */
export function configComparisonText(comparison: ConfigComparison): string {
  return comparison.compared
    ? 'Layers, files, config and history were compared with the reference.'
    : `Config and history were not compared: ${comparison.reason}.`;
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
    case 'unconfirmed':
      return `Minimize: no result: the smallest candidate (${m.candidatesJudged} judged) did not show "${CLASS_WORDS[m.target]}" in its confirming run of ${m.confirming.attempts} attempts`;
    case 'minimized':
      return `Minimized (${CLASS_WORDS[m.target]}): ${m.instructionsBefore} → ${m.instructionsAfter} instructions, ${m.filesBefore} → ${m.filesAfter} context files, ${m.proven ? '1-minimal' : 'NOT proven minimal (the time budget ran out)'}, ${m.candidatesJudged} candidates in ${m.seconds} s; its confirming run showed it in ${m.confirming.found} of ${m.confirming.attempts} attempts: ${m.dockerfilePath}`;
  }
}
