import { cacheSecrets } from '../backends/backends.js';
import type { Settings } from '../inputs/settings.js';
import type { RunResult } from '../model/run-result.js';
import { differenceClassOf } from '../verdict/verdict.js';

/** 2: attempts and verdicts are classed (lost-layer, content-differs, config-differs); 1 knew only lost layers. */
export const REPORT_SCHEMA_VERSION = 2;

const masked = (value: string) => (value ? '***' : '');

/**
 * The settings as the report and summary show them: every credential masked, the token and each value the
 * chosen backend calls secret (the S3 keys, the gha token, the account key, the registry password).
 */
export function publicSettings(settings: Settings): Settings {
  const secrets = new Set(cacheSecrets(settings));
  const mask = (value: unknown): unknown => {
    if (typeof value === 'string') return secrets.has(value) ? masked(value) : value;
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, mask(inner)]));
  };
  return {
    ...settings,
    githubToken: masked(settings.githubToken),
    cacheSettings: mask(settings.cacheSettings) as Settings['cacheSettings'],
  };
}

/** A versioned record of every attempt, for workflows to upload and compare. */
export function buildReport(result: RunResult, settings: Settings) {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    runId: result.runId,
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
    verdict: result.verdict,
    buildkitVersion: result.buildkitVersion,
    cacheMaker: result.cacheMaker,
    cacheSharedResults: result.cacheSharedResults,
    configComparison: result.configComparison,
    buildctl: result.buildctl
      ? {
          version: settings.buildctlVersion,
          url: result.buildctl.url,
          fromToolCache: result.buildctl.fromToolCache,
        }
      : undefined,
    lossRate: result.lossRate,
    lanes: result.lanes,
    settings: publicSettings(settings),
    attempts: result.records,
    minimization: result.minimization,
  };
}

/** The action's outputs, as strings. */
export function outputsOf(result: RunResult, reportPath: string): Record<string, string> {
  const verdict = result.verdict;
  const first = firstDifference(result);
  return {
    reproduced: String(verdict.kind === 'reproduced'),
    'failed-attempt': verdict.kind === 'reproduced' ? String(verdict.failedAttempt) : '',
    attempts: String(result.records.length),
    'missing-paths': JSON.stringify(verdict.kind === 'reproduced' ? verdict.missingPaths : []),
    'buildkit-version': result.buildkitVersion,
    verdict: verdict.kind,
    report: reportPath,
    'lost-count': String(verdict.kind === 'reproduced' ? verdict.lostCount : 0),
    'lost-layers': JSON.stringify(verdict.kind === 'reproduced' ? verdict.lostLayers : []),
    'loss-rate': result.lossRate ? String(result.lossRate.rate) : '',
    'loss-rate-interval': result.lossRate
      ? JSON.stringify([result.lossRate.twoSided.low, result.lossRate.twoSided.high])
      : '',
    'loss-rate-upper-bound': result.lossRate ? String(result.lossRate.oneSidedUpper) : '',
    'cache-shared-results': result.cacheSharedResults ? JSON.stringify(result.cacheSharedResults) : '',
    classes: verdict.kind === 'not-run' ? '' : JSON.stringify(verdict.classes),
    'first-difference': first ? JSON.stringify(first) : '',
    'config-compared': result.configComparison ? String(result.configComparison.compared) : '',
    'minimized-dockerfile':
      result.minimization?.kind === 'minimized' ? result.minimization.dockerfilePath : '',
  };
}

/** The account of the first attempt of the verdict's class, with its number and class. */
function firstDifference(result: RunResult) {
  const kind = differenceClassOf(result.verdict);
  const record = kind ? result.records.find((r) => r.outcome.kind === kind) : undefined;
  if (!record || !('difference' in record.outcome)) return undefined;
  return { attempt: record.attempt, class: record.outcome.kind, ...record.outcome.difference };
}
