/**
 * The honest baseline: the same head trained on raw pixels (small, gray when the data is gray), so the transfer
 * gain is measured on the same split rather than claimed. The preprocessing is the `pixels` backbone's
 * (src/models/pixels.ts).
 */
import type { Example, ImageSource } from '../data/types.js';
import type { FeatureMatrix } from '../features/matrix.js';
import type { ImagePreprocess } from '../models/spec.js';
import { pixelPreprocess } from '../models/pixels.js';
import { preprocessBatch } from '../preprocess/image.js';

export async function pixelFeatures(
  examples: readonly Example<ImageSource>[],
  spec: ImagePreprocess = pixelPreprocess(examples),
): Promise<FeatureMatrix> {
  const t = await preprocessBatch(
    examples.map((e) => e.source),
    spec,
  );
  const dim = spec.size[0] * spec.size[1] * spec.channels;
  return { data: t.data, dim, labels: Int32Array.from(examples, (e) => e.label) };
}
