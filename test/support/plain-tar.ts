import { execFileSync } from 'node:child_process';

/*
 * A witness that is not our reader: GNU tar lists what an OCI layout tarball holds. The layout's JSON
 * documents are read out of the archive with `tar -xO`, each layer blob is listed with `tar -tz`.
 */

interface Descriptor {
  digest: string;
}

/** One file of the archive, by its name (BuildKit writes them without `./`). */
function member(archive: string, name: string): Buffer {
  return execFileSync('tar', ['-xOf', archive, name], { maxBuffer: 512 * 1024 * 1024 });
}

function blob(archive: string, digest: string): Buffer {
  return member(archive, `blobs/sha256/${digest.replace(/^sha256:/, '')}`);
}

/** The paths each layer of the image holds, in the manifest's order. */
export function layerListings(archive: string): string[][] {
  const index = JSON.parse(member(archive, 'index.json').toString('utf8')) as { manifests: Descriptor[] };
  const [manifestRef] = index.manifests;
  if (!manifestRef) throw new Error(`${archive}: index.json lists no manifest`);
  const manifest = JSON.parse(blob(archive, manifestRef.digest).toString('utf8')) as { layers: Descriptor[] };
  return manifest.layers.map((layer) =>
    execFileSync('tar', ['-tzf', '-'], { input: blob(archive, layer.digest), encoding: 'utf8' })
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.replace(/^\.\//, '').replace(/\/$/, '')),
  );
}

/** An attempt's image and the reference beside it, as plain tar sees them. */
export function plainTarWitness(attempt: string, reference: string) {
  const attemptLayers = layerListings(attempt);
  const referenceLayers = layerListings(reference);
  const holding = (layers: string[][], path: string) =>
    layers.flatMap((files, i) => (files.includes(path) ? [i + 1] : []));
  return {
    attemptLayers: attemptLayers.length,
    referenceLayers: referenceLayers.length,
    /** 1-based positions of the layers that hold the path. */
    attemptLayersWith: (path: string) => holding(attemptLayers, path),
    referenceLayersWith: (path: string) => holding(referenceLayers, path),
  };
}
