/** Images: files or pixels, decoded and resized by the model's preprocessing; backbones cut at candidate layers. */
import { readFile } from 'node:fs/promises';
import type { Example, ImageSource } from '../data/types.js';
import { GraftError } from '../errors.js';
import { sha256 } from '../features/cache.js';
import { preprocessBatch } from '../preprocess/image.js';
import type { ImageInput } from '../preprocess/image-types.js';
import { PIXELS_ID, TFIDF_ID } from '../models/baselines.js';
import { TRAIN_DEFAULTS } from '../pipeline/options.js';
import type { Modality } from './types.js';

export const IMAGE: Modality = {
  kind: 'image',
  plural: 'images',
  rankDefaults: [TRAIN_DEFAULTS.model, PIXELS_ID],
  quantizeMode: 'static',
  exampleInput: (e) => e.source as ImageInput,
  argumentInput: (path) => path,
  async encode(inputs, manifest, _dir, options) {
    if (manifest.preprocess.kind !== 'image')
      throw new GraftError('BAD_INPUT', 'this model does not take images');
    const images = inputs.map((x) => {
      if (typeof x === 'object' && 'text' in x)
        throw new GraftError('BAD_INPUT', 'this model classifies images, not text');
      return x;
    });
    return {
      [manifest.inputs[0]!]: await preprocessBatch(images, manifest.preprocess, {
        pool: options.pool,
        maxPixels: options.maxPixels,
      }),
    };
  },
  async rankCandidates(model, examples, o) {
    if (model === TFIDF_ID)
      throw new GraftError('BAD_OPTION', 'tfidf ranks text data; this data set is images (try pixels)');
    const { imageCandidates } = await import('../rank/sources.js');
    return imageCandidates(model, examples as readonly Example<ImageSource>[], o);
  },
  inputKey: async (path) => sha256(await readFile(path)),
};
