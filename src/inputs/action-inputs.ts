import * as core from '@actions/core';
import { INPUT_NAMES, type RawInputs } from './input-table.js';

/** The step's `with:` values, by input name. */
export function readActionInputs(): RawInputs {
  return Object.fromEntries(INPUT_NAMES.map((name) => [name, core.getInput(name)]));
}
