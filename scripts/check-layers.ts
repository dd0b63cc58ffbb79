// Keeps the dependencies of src/ pointing one way (docs/architecture.md): every file of a part may import
// its own part, the ground (log.ts, paths.ts) and the parts listed for it below, nothing else. Prints each
// import that breaks this and exits 1. Usage: node --import tsx scripts/check-layers.ts
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The parts the engine puts together: what one check needs, from the model up to the minimizer. */
const BELOW_THE_ENGINE = [
  'model',
  'backends',
  'inputs',
  'verdict',
  'stores',
  'inspection',
  'services',
  'attempts',
  'minimize',
];

/** Each part of src/ (a folder, or a file at its top) and the parts it may import, lowest first. */
export const LAYERS: Readonly<Record<string, readonly string[]>> = {
  model: [],
  // Clients of the servers remote caches live in (S3, Azure Blob, the GitHub cache, a registry's API).
  stores: ['model'],
  // What each cache-type word means, its inputs and attributes (pure), and its server's part (stores).
  backends: ['model', 'stores'],
  inputs: ['model', 'backends'],
  verdict: ['model'],
  inspection: ['model', 'backends', 'inputs', 'stores'],
  services: ['model', 'backends', 'inputs', 'stores'],
  attempts: ['model', 'backends', 'inputs', 'verdict', 'stores', 'inspection', 'services'],
  minimize: ['model', 'backends', 'inputs', 'verdict', 'stores', 'inspection', 'services', 'attempts'],
  'engine.ts': BELOW_THE_ENGINE,
  // The fuzzer: generated cases (pure), the runner that puts each through the engine, its reports.
  fuzz: [...BELOW_THE_ENGINE, 'engine.ts', 'report'],
  report: ['model', 'backends', 'inputs', 'verdict'],
  'state-helper.ts': [],
  // The entry points: the action, the CLI and the bisect table put everything together.
  'main.ts': ['*'],
  'cli.ts': ['*'],
  'summarize.ts': ['*'],
};

/** Imported by anything, importing nothing of src/. */
export const GROUND = ['log.ts', 'paths.ts', 'runner.ts'];

/** The part a path under src/ belongs to: its first folder, or its file name at the top. */
export function partOf(relative: string): string {
  return relative.split('/')[0] ?? relative;
}

/** The relative imports of a TypeScript source, as written (`import … from './x.js'`, `export … from`). */
export function importsOf(source: string): string[] {
  const specifiers = [...source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'/gms)].map(
    (m) => m[1],
  );
  return specifiers.filter((s): s is string => s !== undefined && s.startsWith('.'));
}

/** "src/x/a.ts imports src/y/b.js: x may not import y" for each import of `file` that breaks the layers. */
export function violations(srcDir: string, file: string, source: string): string[] {
  const from = partOf(path.relative(srcDir, file));
  const allowed = from in LAYERS ? LAYERS[from] : undefined;
  if (!allowed) return GROUND.includes(from) && importsOf(source).length === 0 ? [] : groundOrUnknown(from);
  return importsOf(source).flatMap((specifier) => {
    const target = path.relative(srcDir, path.resolve(path.dirname(file), specifier));
    const to = partOf(target).replace(/\.js$/, '.ts');
    if (target.startsWith('..')) return [`${file} imports ${specifier}: outside src/`];
    if (to === from || GROUND.includes(to) || allowed.includes('*') || allowed.includes(to)) return [];
    return [`${file} imports ${specifier}: ${from} may not import ${to}`];
  });

  function groundOrUnknown(part: string): string[] {
    return GROUND.includes(part)
      ? [`${file}: the ground imports nothing of src/`]
      : [`${file}: ${part} is not a part of LAYERS (scripts/check-layers.ts): add it`];
  }
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const srcDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');
  const found = sources(srcDir).flatMap((file) =>
    violations(srcDir, path.relative(process.cwd(), file), fs.readFileSync(file, 'utf8')).map((v) => v),
  );
  for (const line of found) console.error(line);
  console.log(
    found.length === 0
      ? 'layers: every import of src/ points down'
      : `layers: ${found.length} upward imports`,
  );
  process.exitCode = found.length === 0 ? 0 : 1;
}
