import { parse, stringify, type TomlTable } from 'smol-toml';

export interface RegistryHosts {
  /** host:port of the mirror registry, as buildkitd reaches it on the run's network. */
  mirror: string;
  /** host:port of the cache registry. */
  cache: string;
  /** Other registries the daemon reaches in plain http (a user's on this host's loopback). */
  plainHttp?: readonly string[];
}

/**
 * The user's buildkitd.toml with our registries added: Docker Hub goes through the mirror first, and both
 * local registries speak plain HTTP. The user's own settings for other registries are kept.
 */
export function buildkitdToml(userConfig: string, hosts: RegistryHosts): string {
  const config: TomlTable = userConfig ? parse(userConfig) : {};
  const registries = table(config, 'registry');
  const dockerHub = table(registries, 'docker.io');
  const mirrors = Array.isArray(dockerHub['mirrors'])
    ? dockerHub['mirrors'].filter((m) => m !== hosts.mirror)
    : [];
  dockerHub['mirrors'] = [hosts.mirror, ...mirrors];
  for (const host of [hosts.mirror, hosts.cache, ...(hosts.plainHttp ?? [])])
    table(registries, host)['http'] = true;
  return stringify(config);
}

function table(parent: TomlTable, key: string): TomlTable {
  const existing = parent[key];
  if (
    existing !== undefined &&
    (typeof existing !== 'object' || Array.isArray(existing) || existing instanceof Date)
  ) {
    throw new Error(`buildkitd config: "${key}" must be a table`);
  }
  const created = (existing as TomlTable | undefined) ?? {};
  parent[key] = created;
  return created;
}
