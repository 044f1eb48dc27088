/**
 * The honest baseline: the same head trained on raw pixels (small, gray when the data is gray), so the transfer
 * gain is measured on the same split rather than claimed.
 */
import type { Example, ImageSource } from '../data/types.js';
import type { FeatureMatrix } from '../features/matrix.js';
import type { ImagePreprocess } from '../models/spec.js';
import { preprocessBatch } from '../preprocess/image.js';
import { isRawImage } from '../preprocess/image-types.js';

/** 28x28 gray for gray raw images (MNIST), otherwise 32x32 RGB; pixel values scaled to [0, 1]. */
export function pixelSpec(examples: readonly Example<ImageSource>[]): ImagePreprocess {
  const first = examples[0]?.source;
  const gray = first !== undefined && isRawImage(first) && first.channels <= 2;
  const side = gray && isRawImage(first!) ? Math.min(32, first.width, first.height) : 32;
  return {
    kind: 'image',
    size: [side, side],
    resizeShorter: side,
    crop: 'center',
    interpolation: 'bilinear',
    layout: 'NHWC',
    channels: gray ? 1 : 3,
    scale: 1 / 255,
    mean: gray ? [0] : [0, 0, 0],
    std: gray ? [1] : [1, 1, 1],
  };
}

export async function pixelFeatures(
  examples: readonly Example<ImageSource>[],
  spec: ImagePreprocess = pixelSpec(examples),
): Promise<FeatureMatrix> {
  const t = await preprocessBatch(
    examples.map((e) => e.source),
    spec,
  );
  const dim = spec.size[0] * spec.size[1] * spec.channels;
  return { data: t.data, dim, labels: Int32Array.from(examples, (e) => e.label) };
}
