import { execFileSync } from 'node:child_process';
import { docker } from './run-watch.js';

/**
 * The host's address on Docker's default bridge, which containers on any bridge network reach. The IPAM
 * config names it on some engines only: Debian's docker.io 20.10 leaves `Gateway` out (`{"Subnet": …}`),
 * so the address is then read from the bridge's own interface (docker0). Node cannot tell it: it lists only
 * interfaces that are up, and the bridge is down while no container is on it.
 */
export function bridgeGateway(): string {
  const network = JSON.parse(docker('network', 'inspect', 'bridge', '--format', '{{json .}}')) as {
    IPAM?: { Config?: { Gateway?: string }[] | null };
    Options?: Record<string, string>;
  };
  const fromConfig = network.IPAM?.Config?.find((c) => c.Gateway)?.Gateway;
  if (fromConfig) return fromConfig;
  const name = network.Options?.['com.docker.network.bridge.name'] || 'docker0';
  const line = execFileSync('ip', ['-4', '-o', 'addr', 'show', 'dev', name], { encoding: 'utf8' });
  const address = /\binet (\d+\.\d+\.\d+\.\d+)\//.exec(line)?.[1];
  if (!address)
    throw new Error(`the default bridge names no gateway, and ${name} has no IPv4 address: ${line}`);
  return address;
}
