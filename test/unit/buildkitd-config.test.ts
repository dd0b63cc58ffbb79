import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseToml, type TomlTable } from 'smol-toml';
import { buildkitdToml } from '../../src/inputs/buildkitd-config.js';

/** smol-toml makes null-prototype tables; plain objects compare with deepEqual. */
const parse = (toml: string): TomlTable => JSON.parse(JSON.stringify(parseToml(toml))) as TomlTable;

const hosts = { mirror: 'lost-layer-mirror:5000', cache: 'lost-layer-cache:5000' };

function registries(toml: string): Record<string, TomlTable> {
  const config = parse(toml);
  const registry = config['registry'];
  assert.ok(
    registry !== undefined && typeof registry === 'object' && !Array.isArray(registry),
    'no [registry]',
  );
  return registry as Record<string, TomlTable>;
}

describe('buildkitdToml', () => {
  it('with no user config routes Docker Hub through the mirror and speaks http to both registries', () => {
    const config = parse(buildkitdToml('', hosts));
    assert.deepEqual(config, {
      registry: {
        'docker.io': { mirrors: ['lost-layer-mirror:5000'] },
        'lost-layer-mirror:5000': { http: true },
        'lost-layer-cache:5000': { http: true },
      },
    });
  });

  it('keeps the user mirrors for Docker Hub after ours', () => {
    const toml = buildkitdToml('[registry."docker.io"]\nmirrors = ["x:5000"]\n', hosts);
    assert.deepEqual(registries(toml)['docker.io']?.['mirrors'], ['lost-layer-mirror:5000', 'x:5000']);
  });

  it('does not list our mirror twice when the user config names it', () => {
    const toml = buildkitdToml(`[registry."docker.io"]\nmirrors = ["${hosts.mirror}", "y:5000"]\n`, hosts);
    assert.deepEqual(registries(toml)['docker.io']?.['mirrors'], ['lost-layer-mirror:5000', 'y:5000']);
  });

  it('keeps the user settings it does not touch', () => {
    const user = [
      'debug = true',
      '[worker.oci]',
      'gc = false',
      'max-parallelism = 3',
      '[registry."ghcr.io"]',
      'mirrors = ["ghcr-mirror:5000"]',
      '[registry."docker.io"]',
      'insecure = true',
      `[registry."${hosts.cache}"]`,
      'ca = ["/etc/certs/ca.pem"]',
    ].join('\n');
    const config = parse(buildkitdToml(user, hosts));
    assert.equal(config['debug'], true);
    assert.deepEqual(config['worker'], { oci: { gc: false, 'max-parallelism': 3 } });
    const registry = config['registry'] as Record<string, TomlTable>;
    assert.deepEqual(registry['ghcr.io'], { mirrors: ['ghcr-mirror:5000'] });
    assert.deepEqual(registry['docker.io'], { insecure: true, mirrors: ['lost-layer-mirror:5000'] });
    assert.deepEqual(registry[hosts.cache], { ca: ['/etc/certs/ca.pem'], http: true });
    assert.deepEqual(registry[hosts.mirror], { http: true });
  });

  it('throws when registry is not a table', () => {
    assert.throws(() => buildkitdToml('registry = "oops"', hosts), /registry/);
  });

  it('throws when a registry host entry is not a table', () => {
    assert.throws(() => buildkitdToml('[registry]\n"docker.io" = 5\n', hosts), /docker\.io/);
  });

  it('throws on a user config that is not TOML', () => {
    assert.throws(() => buildkitdToml('debug = = true', hosts));
  });
});
