import type { AttemptClass } from '../model/classes.js';
import type { ImageDifference } from '../model/difference.js';

/**
 * The class of an attempt's image, from its account against the reference. Lost layer: the non-empty layers
 * are a strict subsequence of the reference's with some content left out entirely (a duplicate dropped keeps
 * its content: that is another difference), or, with a tar output, an expected path is gone. Content
 * differs: any other difference of the layers or the filesystem. Config differs: the layers are equal and
 * the config or history are not. Intact: nothing differs.
 */
export function classify(difference: ImageDifference): AttemptClass {
  const { layerRelation } = difference;
  if (layerRelation === 'strict-subsequence' && difference.lostLayers.length > 0) return 'lost-layer';
  if (layerRelation === 'not-compared' && difference.missingPaths.length > 0) return 'lost-layer';
  if (layerRelation === 'strict-subsequence' || layerRelation === 'differs') return 'content-differs';
  if (difference.missingPaths.length > 0 || difference.files.length > 0) return 'content-differs';
  if (difference.config.length > 0) return 'config-differs';
  return 'intact';
}
