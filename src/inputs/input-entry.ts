import type { Settings } from './settings-types.js';

/** One input of action.yml, which the CLI takes as a flag of the same name. */
export interface InputEntry {
  readonly name: string;
  /** What an empty or missing input means, as text ('' : worked out from other inputs, see parseSettings). */
  readonly default: string;
  /** The default action.yml writes, when the runner fills it in (github-token). */
  readonly actionDefault?: string;
  /** The field of Settings it sets, for the summary's Settings table. */
  readonly setting: keyof Settings;
  /** One line for the CLI's help. */
  readonly usage: string;
}

/** Inputs by their action.yml names; a missing or empty one takes its default. */
export type RawInputs = Readonly<Record<string, string | undefined>>;
