import { CACHE_OPTIONS, type CacheOptionName } from '../backends/backends.js';
import { inputsOf } from '../inputs/backend-inputs.js';
import { INPUTS } from '../inputs/input-table.js';
import type { Settings } from '../inputs/settings.js';
import { publicSettings } from './json-report.js';
import { cell, tableRow } from './markdown.js';

/**
 * The job summary's Settings table, one row per input under the name the workflow gave it (buildkit-image,
 * not the field buildkitImage), in action.yml's order. Inputs that set one field share its row
 * ("buildkitd-config / buildkitd-config-inline"). Credentials are masked, as in the JSON report.
 */
export function settingsTable(settings: Settings, lanes?: number): string[] {
  const values = publicSettings(settings);
  return [
    '| Setting | Value |',
    '| --- | --- |',
    ...inputsBySetting(settings).map(([setting, names]) => {
      const shown = SHOWN[setting];
      return tableRow([
        names.join(' / '),
        cell(shown ? shown(settings, lanes) : settingText(values[setting])),
      ]);
    }),
  ];
}

/**
 * Settings whose typed value is not what a workflow writes: shown as the word given, and what it became
 * (parallel auto is 0 in Settings; mirror-upstream none is '').
 */
const SHOWN: Partial<Record<keyof Settings, (settings: Settings, lanes: number | undefined) => string>> = {
  parallel: ({ parallel }, lanes) =>
    parallel !== 0 ? String(parallel) : `auto${lanes ? ` (${lanes} ${lanes === 1 ? 'lane' : 'lanes'})` : ''}`,
  mirrorUpstream: ({ mirrorUpstream }) =>
    mirrorUpstream || 'none (a plain registry, filled from mirror-images)',
  failOn: ({ failOn }) => (failOn.length === 0 ? 'none' : failOn.join(', ')),
  cacheOptions: ({ cacheOptions }) =>
    Object.keys(cacheOptions).length === 0
      ? "(the backend's and BuildKit's defaults)"
      : Object.entries(cacheOptions)
          .map(([name, value]) => `${CACHE_OPTIONS[name as CacheOptionName].input}: ${value}`)
          .join(', '),
};

/**
 * Each field of Settings with the names of the inputs that set it, in the order of their first input; of
 * the backends' own inputs, the chosen backend's only; of the fuzz inputs, none unless fuzzing.
 */
function inputsBySetting(settings: Pick<Settings, 'cacheType' | 'fuzz'>): [keyof Settings, string[]][] {
  const names = new Map<keyof Settings, string[]>();
  const chosen = new Set(inputsOf(settings.cacheType));
  for (const input of INPUTS) {
    if (input.setting === 'cacheSettings' && !chosen.has(input.name)) continue;
    // A check of one Dockerfile shows no fuzz row.
    if (input.setting === 'fuzz' && !settings.fuzz) continue;
    names.set(input.setting, [...(names.get(input.setting) ?? []), input.name]);
  }
  return [...names];
}

function settingText(value: unknown): string {
  if (value === undefined) return '(default)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
