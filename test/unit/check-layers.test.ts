import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importsOf, LAYERS, violations } from '../../scripts/check-layers.js';

describe('the layer check', () => {
  it('reads relative imports and re-exports, not packages', () => {
    const source = [
      "import * as fs from 'node:fs';",
      "import type { Settings } from '../inputs/settings.js';",
      'import {',
      '  a,',
      "} from './x.js';",
      "export { InfrastructureError } from './readiness.js';",
    ].join('\n');
    assert.deepEqual(importsOf(source), ['../inputs/settings.js', './x.js', './readiness.js']);
  });

  it('lets a part import what lies below it, its own part and the ground', () => {
    const source =
      "import { a } from '../model/attempt.js';\nimport { b } from './c.js';\nimport { l } from '../log.js';";
    assert.deepEqual(violations('src', 'src/attempts/run-attempts.ts', source), []);
  });

  it('refuses an import upward, and one from a part it does not know', () => {
    assert.deepEqual(violations('src', 'src/report/summary.ts', "import { runCheck } from '../engine.js';"), [
      'src/report/summary.ts imports ../engine.js: report may not import engine.ts',
    ]);
    assert.deepEqual(violations('src', 'src/model/x.ts', "import { y } from '../attempts/y.js';"), [
      'src/model/x.ts imports ../attempts/y.js: model may not import attempts',
    ]);
    assert.match(violations('src', 'src/newpart/x.ts', '')[0] ?? '', /newpart is not a part of LAYERS/);
  });

  it('has no part that imports one that imports it back', () => {
    for (const [part, below] of Object.entries(LAYERS)) {
      for (const other of below) {
        if (other === '*') continue;
        assert.ok(!(LAYERS[other] ?? []).includes(part), `${part} and ${other} import each other`);
      }
    }
  });
});
