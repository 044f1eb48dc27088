/**
 * Augmented views of examples for feature-level augmentation: view `index` of an example is its image augmented
 * (augment/image.ts) with a generator seeded from the view's cache key, which hashes the example's content, the
 * view index, the seed and every augmentation setting. So a view is the same wherever and whenever its image
 * is extracted, and the feature cache holds views beside the plain features without ever confusing them.
 */
import { mulberry32 } from '../data/random.js';
import type { ImageSource } from '../data/types.js';
import { augmentImage, resolveAugment, toRawImage, type AugmentOptions } from '../augment/image.js';
import type { RawImage } from '../preprocess/image-types.js';
import { sha256 } from './cache.js';

export interface FeatureView {
  /** 1, 2, …: which augmented view (the plain image is not a view). */
  index: number;
  seed: number;
  augment: AugmentOptions;
}

/** Bumped when what a setting means changes, so old cached views are not reused. */
const VIEW_FORMAT = 1;

/** The cache key of `view` of the example whose content key (sha256 of its bytes) is `contentKey`. */
export function viewCacheKey(contentKey: string, view: FeatureView): string {
  const settings = JSON.stringify(resolveAugment(view.augment));
  return sha256(`${contentKey}\nview ${VIEW_FORMAT} ${view.index} seed ${view.seed}\n${settings}`);
}

/** The augmented image of a view, drawn from a generator seeded by the view's cache key. */
export async function viewImage(source: ImageSource, viewKey: string, view: FeatureView): Promise<RawImage> {
  const rng = mulberry32(Number.parseInt(viewKey.slice(0, 8), 16));
  return augmentImage(await toRawImage(source), rng, view.augment);
}
