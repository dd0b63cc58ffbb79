import type { FuzzReport } from './fuzz-result.js';

/** The action's outputs of a fuzz run, as strings (the check's outputs are json-report.ts's outputsOf). */
export function fuzzOutputsOf(
  report: FuzzReport,
  reportPath: string,
  outDir: string,
): Record<string, string> {
  const findings = report.cases.filter((c) => c.outcome === 'finding');
  return {
    'fuzz-report': reportPath,
    'fuzz-dir': outDir,
    findings: String(findings.length),
  };
}
