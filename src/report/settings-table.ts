import { INPUTS, type InputEntry } from '../inputs/input-table.js';
import type { Settings } from '../inputs/settings.js';
import { publicSettings } from './json-report.js';
import { cell, tableRow } from './markdown.js';

/**
 * The job summary's Settings table, one row per input under the name the workflow gave it (buildkit-image,
 * not the field buildkitImage), in action.yml's order. Inputs that set one field share its row
 * ("buildkitd-config / buildkitd-config-inline"). The token is masked, as in the JSON report.
 */
export function settingsTable(settings: Settings): string[] {
  const values: Readonly<Record<string, unknown>> = publicSettings(settings);
  return [
    '| Setting | Value |',
    '| --- | --- |',
    ...inputsBySetting().map(([setting, names]) =>
      tableRow([names.join(' / '), cell(settingText(values[setting]))]),
    ),
  ];
}

/** Each field of Settings with the names of the inputs that set it, in the order of their first input. */
function inputsBySetting(): [keyof Settings, string[]][] {
  const names = new Map<keyof Settings, string[]>();
  for (const input of INPUTS as readonly InputEntry[]) {
    names.set(input.setting, [...(names.get(input.setting) ?? []), input.name]);
  }
  return [...names];
}

function settingText(value: unknown): string {
  if (value === undefined) return '(default)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
