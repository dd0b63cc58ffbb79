/*
 * The settings and places of the caches outside the run's containers, one pair per backend: plain types,
 * apart from the backends' behaviour, so that the common interface (backend.ts) can name them.
 */

/** Credentials of an S3 bucket; they travel to buildkitd in its environment, never in a command line. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** '' : none (long-lived keys). */
  sessionToken: string;
}

/** An S3 bucket (AWS or any S3-compatible server) that the user's cache lives in or the run's goes to. */
export interface S3Settings {
  bucket: string;
  region: string;
  /** '' : AWS's own endpoint for the region. */
  endpointUrl: string;
  usePathStyle: boolean;
  /** The user's key prefix: the run's cache goes below it, in a folder of its own. */
  prefix: string;
  /** The cache's name (BuildKit's `name`) that create-cache false imports. */
  name: string;
  credentials: S3Credentials;
}

/** Where an S3 cache is, for this process (cleanup, the cause) and for buildkitd. */
export interface S3Place {
  endpointUrl: string;
  region: string;
  bucket: string;
  usePathStyle: boolean;
  /** The key prefix of the cache's manifests and blobs. */
  prefix: string;
  name: string;
  /** Kept in memory only: a location is never written to a report or a log whole. */
  credentials: S3Credentials;
}

/**
 * The GitHub Actions cache service, as the runner gives it to the steps of a job: a token and the service's
 * URL, for API v1 (ACTIONS_CACHE_URL, BuildKit v0.9–) or v2 (ACTIONS_RESULTS_URL with
 * ACTIONS_CACHE_SERVICE_V2, BuildKit v0.20–; github.com shut v1 down in 2025).
 */
export interface GhaSettings {
  token: string;
  url: string;
  api: 1 | 2;
  /** The scope of a cache a pipeline made, read with create-cache false (BuildKit's default: buildkit). */
  scope: string;
}

export interface GhaPlace {
  url: string;
  api: 1 | 2;
  scope: string;
  /** Kept in memory only, like every credential of a location. */
  token: string;
}

/** An Azure Blob Storage container (Azure, or Azurite) that the user's cache lives in or the run's goes to. */
export interface AzblobSettings {
  /** https://ACCOUNT.blob.core.windows.net, or a path-style URL whose path names the account (Azurite). */
  accountUrl: string;
  accountName: string;
  /** The account key (Shared Key): BuildKit takes it only as an attribute, so it is redacted. */
  secretAccessKey: string;
  container: string;
  /** The user's blob-name prefix: the run's cache goes below it, in a folder of its own. */
  prefix: string;
  /** The cache's name (BuildKit's `name`) that create-cache false imports. */
  name: string;
}

export interface AzblobPlace {
  accountUrl: string;
  accountName: string;
  container: string;
  prefix: string;
  name: string;
  /** Kept in memory only, like every credential of a location. */
  secretAccessKey: string;
}

/** A registry cache a pipeline made (cache-ref), with the credentials to read it. */
export interface RegistryCacheSettings {
  /** host[:port]/repository:tag as the user gave it. */
  ref: string;
  /** '' : the runner's Docker login (docker/login-action writes ~/.docker/config.json, which buildctl reads). */
  username: string;
  password: string;
}
