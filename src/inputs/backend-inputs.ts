/*
 * The backends' own inputs (cache-s3-*, cache-gha-scope, cache-ref…), which each backend declares with the
 * rest of its behaviour: listed here for action.yml and the CLI, and read for the chosen backend only.
 */
import type { InputEntry, RawInputs } from './input-entry.js';
import { boolean, cacheServerUrl, InputError } from './validators.js';
import {
  type BackendInput,
  cacheBackend,
  CACHE_TYPES,
  type CacheSettings,
  type CacheType,
  type GivenInputs,
} from '../backends/backends.js';

/** Each backend's inputs, with the backend they belong to. */
function backendInputs(): { type: CacheType; input: BackendInput }[] {
  return CACHE_TYPES.flatMap((type) =>
    (cacheBackend(type).inputs?.entries ?? []).map((input) => ({ type, input })),
  );
}

/** The backends' inputs as entries of the input table, in the map's order: each is empty by default. */
export const BACKEND_INPUTS: readonly InputEntry[] = backendInputs().map(({ input }) => ({
  name: input.name,
  default: '',
  setting: 'cacheSettings',
  usage: input.usage,
}));

/** The names of the inputs `type` reads. */
export function inputsOf(type: CacheType): string[] {
  return (cacheBackend(type).inputs?.entries ?? []).map((input) => input.name);
}

/**
 * The chosen backend's settings from its inputs (and the environment variables they fall back to); an input
 * of another backend given is an error, as it would be silently ignored.
 */
export function cacheSettingsInputs(
  raw: RawInputs,
  environment: RawInputs,
  cacheType: CacheType,
  createCache: boolean,
): CacheSettings {
  const given = (name: string) => (raw[name] ?? '').trim();
  const stray = backendInputs().find(({ type, input }) => type !== cacheType && given(input.name) !== '');
  if (stray) throw new InputError(stray.input.name, `is used with cache-type: ${stray.type} only`);
  const backend = cacheBackend(cacheType);
  return backend.inputs?.read(givenInputs(raw, environment, cacheType), createCache) as CacheSettings;
}

function givenInputs(raw: RawInputs, environment: RawInputs, cacheType: CacheType): GivenInputs {
  const entries = cacheBackend(cacheType).inputs?.entries ?? [];
  const variable = (name: string) => (environment[name] ?? '').trim();
  const text = (name: string) => {
    const fallbacks = entries.find((entry) => entry.name === name)?.environment ?? [];
    return (raw[name] ?? '').trim() || fallbacks.map(variable).find((value) => value !== '') || '';
  };
  return {
    text,
    variable,
    required: (name) => {
      const value = text(name);
      if (value) return value;
      const fallbacks = entries.find((entry) => entry.name === name)?.environment;
      const or = fallbacks?.length ? ` (or set ${fallbacks.join(' or ')})` : '';
      throw new InputError(name, `is required with cache-type: ${cacheType}${or}`);
    },
    boolean: (name, fallback) => {
      const value = text(name);
      return value ? boolean(name, value) : fallback;
    },
    serverUrl: cacheServerUrl,
    fail: (name, reason) => {
      throw new InputError(name, reason);
    },
  };
}
